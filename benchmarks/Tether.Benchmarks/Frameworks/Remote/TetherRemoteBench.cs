using Tether.Benchmarks.Harness;
using Tether.Nats;
using Tether.Testing;

namespace Tether.Benchmarks.Frameworks.Remote;

/// <summary>
/// Tether over NATS: two (or more) nodes in this process ("client" and "server"), each with its own <see cref="BrokerProxy"/> and so
/// its own NATS connection, through a real nats-server started on a free loopback port. Targets as a user writes them:
/// static-lambda channels, <c>ctx.Send(ctx.Sender, ...)</c> for the echo, <c>node.Request</c> from outside; default options.
/// </summary>
internal sealed class TetherRemoteBench : IRemoteBench
{
    private static readonly ContractRegistry s_contracts = new ContractRegistry()
        .Register<Bytes32>("bench.bytes")
        .Register<Ask32>("bench.ask");

    private Node[] _nodes = [];
    private BrokerProxy?[] _proxies = [];
    private NatsServer? _nats;

    public async Task StartAsync(int nodes)
    {
        _nats = await NatsServer.StartAsync();
        var options = new BrokerOptions { Url = _nats.Url, Contracts = s_contracts };

        // Two nodes keep their old names (client and server); more are node0, node1, ...
        _nodes = Enumerable.Range(0, nodes).Select(i => Node.Create(new NodeOptions { Name = nodes == 2 ? (i == 0 ? "client" : "server") : $"node{i}" })).ToArray();
        _proxies = new BrokerProxy?[nodes];
        for (int i = nodes - 1; i >= 0; i--)
        {
            _proxies[i] = await BrokerProxy.AttachAsync(_nodes[i], options);
        }

        long start = Environment.TickCount64;
        while (_proxies.Any(p => p!.Peers.Count < nodes - 1))
        {
            if (Environment.TickCount64 - start > 10_000)
            {
                throw new InvalidOperationException($"The {nodes} Tether nodes did not all hear each other's heartbeats within 10 s.");
            }

            await Task.Delay(10);
        }
    }

    public Task<Func<Task>> PrepareBlastAsync(int messages, int window, int from, int to)
    {
        Node client = _nodes[from];
        Node server = _nodes[to];
        Address echo = server.Spawn(static () => new EchoTarget());
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Address blaster = client.Spawn(() => new Blaster(new Address(server.Name, echo.Id), messages, window, finished));
        return Task.FromResult<Func<Task>>(() =>
        {
            client.Send(blaster, Go.Instance);
            return finished.Task;
        });
    }

    public Task<Func<Task<int>>> PrepareRequestAsync()
    {
        Node client = _nodes[0];
        Node server = _nodes[1];
        Address responder = server.Spawn(static () => new Responder());
        var remote = new Address(server.Name, responder.Id);
        var ask = new Ask32(RemotePayload.Create());
        return Task.FromResult<Func<Task<int>>>(async () => (await client.Request(remote, ask)).Data.Length);
    }

    public async ValueTask DisposeAsync()
    {
        // A cheap profile of the batching: frames per NATS message each way, and how often flow control stopped a sender (to stderr, with the iterations' lines).
        for (int i = 0; i < _proxies.Length; i++)
        {
            if (_proxies[i] is { MessagesPublished: > 0 } proxy)
            {
                Console.Error.WriteLine($"  tether {_nodes[i].Name}: {proxy.Statistics.FramesSent:N0} frames in {proxy.MessagesPublished:N0} NATS messages ({(double)proxy.Statistics.FramesSent / proxy.MessagesPublished:0.0} per message; {proxy.Statistics.CreditWaits:N0} waits for flow credit)");
            }
        }

        foreach (BrokerProxy? proxy in _proxies)
        {
            if (proxy is not null)
            {
                await proxy.DisposeAsync();
            }
        }

        foreach (Node node in _nodes)
        {
            await node.DisposeAsync();
        }

        _nats?.Dispose();
    }

    private sealed record Go
    {
        public static readonly Go Instance = new();
    }

    private sealed class EchoTarget : Target, ITarget<EchoTarget>
    {
        public static void Wire(Channels<EchoTarget> channels)
            => channels.On<Bytes32>(static (_, m, ctx) => ctx.Send(ctx.Sender, m));
    }

    private sealed class Responder : Target, ITarget<Responder>
    {
        public static void Wire(Channels<Responder> channels)
            => channels.Request<Ask32, Bytes32>(static (_, m, _) => new Bytes32(m.Data));
    }

    /// <summary>Sends <c>messages</c> to the echo, keeping at most <c>window</c> unanswered; one more for every echo.</summary>
    private sealed class Blaster(Address echo, int messages, int window, TaskCompletionSource finished) : Target, ITarget<Blaster>
    {
        private readonly Bytes32 _payload = new(RemotePayload.Create());
        private int _sent;
        private int _received;

        public static void Wire(Channels<Blaster> channels) => channels
            .On<Go>(static (self, _, ctx) => self.Start(ctx))
            .On<Bytes32>(static (self, _, ctx) => self.Echoed(ctx));

        private void Start(Context ctx)
        {
            int first = Math.Min(window, messages);
            for (int i = 0; i < first; i++)
            {
                ctx.Send(echo, _payload);
            }

            _sent = first;
        }

        private void Echoed(Context ctx)
        {
            if (++_received == messages)
            {
                finished.TrySetResult();
                return;
            }

            if (_sent < messages)
            {
                _sent++;
                ctx.Send(echo, _payload);
            }
        }
    }
}

/// <summary>The 32-byte message of the blast and of answers (public: MessagePack's contractless resolver needs it).</summary>
public sealed record Bytes32(byte[] Data);

/// <summary>The 32-byte request; the answer is the same bytes.</summary>
public sealed record Ask32(byte[] Data) : IRequest<Bytes32>;
