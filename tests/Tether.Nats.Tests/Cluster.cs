using System.Diagnostics;

namespace Tether.Nats.Tests;

public sealed record Ping(int Seq, Address ReplyTo);

public sealed record Pong(int Seq);

public sealed record Ask(string Text) : IRequest<string>;

public sealed record Fail(string Code) : IRequest<string>;

public sealed record Never : IRequest<string>;

public sealed record Numbered(string From, int Seq);

public sealed record GetSeen : IRequest<int>;

public sealed record Unregistered(int X) : IRequest<int>;

public sealed record Delegate(Address To, string Text) : IRequest<string>;

public sealed record Forward(ReplyToken<string> Token, string Text);

public sealed record Price(string Symbol, int Cents);

/// <summary>Subscribes to a topic on start and records the events it gets.</summary>
public sealed class PriceWatcher(string topic, System.Collections.Concurrent.ConcurrentQueue<Price> seen) : Target, ITarget<PriceWatcher>
{
    public static void Wire(Channels<PriceWatcher> channels) => channels.On<Price>(static (self, m, _) => self.Seen(m));

    protected internal override void OnStarted(Context context) => context.Subscribe(topic);

    private void Seen(Price price) => seen.Enqueue(price);
}

public sealed record Relay(Address Via, string Text) : IRequest<string>;

/// <summary>Answers a <see cref="Relay"/> by asking another target (typically on another node) and passing its answer on.</summary>
public sealed class Relayer : Target, ITarget<Relayer>
{
    public static void Wire(Channels<Relayer> channels) => channels
        .RequestAsync<Relay, string>(static async (self, m, ctx) => "relayed " + await ctx.Request(m.Via, new Ask(m.Text)));
}

/// <summary>Answers asks, pings back, throws coded errors, never answers <see cref="Never"/>, and counts numbered messages in order.</summary>
public sealed class Echo : Target, ITarget<Echo>
{
    private readonly Dictionary<string, int> _last = [];
    private int _seen;
    private int _outOfOrder;

    public static void Wire(Channels<Echo> channels) => channels
        .Request<Ask, string>(static (self, m, ctx) => $"echo {m.Text} from {ctx.Self.Node}")
        .On<Ping>(static (self, m, ctx) => ctx.Send(m.ReplyTo, new Pong(m.Seq)))
        .Request<Fail, string>(static (self, m, ctx) => throw new TetherException(m.Code, "failing on purpose"))
        .Deferred<Never, string>(static (self, m, token, ctx) => { })
        .On<Numbered>(static (self, m, ctx) => self.Count(m))
        .Request<GetSeen, int>(static (self, m, ctx) => self._outOfOrder > 0 ? -self._outOfOrder : self._seen);

    private void Count(Numbered m)
    {
        if (_last.TryGetValue(m.From, out int last) && m.Seq != last + 1)
        {
            _outOfOrder++;
        }

        _last[m.From] = m.Seq;
        _seen++;
    }
}

/// <summary>Two or more nodes, each with its own broker proxy, on one real nats-server.</summary>
public sealed class Cluster : IAsyncDisposable
{
    private readonly List<(Node Node, BrokerProxy Proxy)> _members = [];

    public Cluster(NatsServer server) => Server = server;

    public NatsServer Server { get; }

    public static async Task<Cluster> StartAsync(bool jetStream = false)
        => new Cluster(await NatsServer.StartAsync(jetStream));

    public static ContractRegistry Contracts() => Register(new ContractRegistry());

    public static ContractRegistry Register(ContractRegistry contracts) => contracts
        .Register<Ping>("test.ping")
        .Register<Pong>("test.pong")
        .Register<Ask>("test.ask")
        .Register<Fail>("test.fail")
        .Register<Never>("test.never")
        .Register<Numbered>("test.numbered")
        .Register<GetSeen>("test.get-seen")
        .Register<Relay>("test.relay")
        .Register<Price>("test.price")
        .Register<Delegate>("test.delegate")
        .Register<Forward>("test.forward")
        .Register<FailureTests.Hello>("test.hello")
        .Register<OrderTests.GetProgress>("test.progress");

    public async Task<(Node Node, BrokerProxy Proxy)> AddNodeAsync(string name, BrokerOptions? options = null, ContractRegistry? contracts = null, string? url = null)
    {
        Node node = Node.Create(new NodeOptions { Name = name });
        BrokerProxy proxy = await BrokerProxy.AttachAsync(node, (options ?? new BrokerOptions()) with { Url = url ?? Server.Url, Contracts = contracts ?? Contracts() });
        _members.Add((node, proxy));
        return (node, proxy);
    }

    /// <summary>Waits until every member has heard every other (heartbeats).</summary>
    public async Task MeshedAsync()
    {
        long start = Stopwatch.GetTimestamp();
        while (_members.Any(m => m.Proxy.Peers.Count < _members.Count - 1))
        {
            // A hang guard for setup only (heartbeats every 0.5 s mesh the nodes in about one interval).
            Assert.True(Stopwatch.GetElapsedTime(start) < TimeSpan.FromSeconds(10), "nodes did not hear each other's heartbeats within 10 s");
            await Task.Delay(20); // polling a condition with a deadline
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            foreach ((Node node, BrokerProxy proxy) in _members)
            {
                try
                {
                    await proxy.DisposeAsync();
                }
                finally
                {
                    await node.DisposeAsync();
                }
            }
        }
        finally
        {
            Server.Dispose(); // the broker process goes whatever happened above
        }
    }
}
