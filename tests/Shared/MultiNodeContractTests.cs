using System.Collections.Concurrent;
using System.Diagnostics;
using Xunit;

namespace Tether.Testing;

/// <summary>
/// Several nodes joined by one transport, for <see cref="MultiNodeContractTests"/>: the in-memory network, or nodes over
/// a real nats-server. Disposing it stops every node and whatever carries them.
/// </summary>
public interface IMultiNode : IAsyncDisposable
{
    /// <summary>A new node, joined to the others.</summary>
    Task<Node> AddNodeAsync(string name);

    /// <summary>Completes when the services and factories registered on <paramref name="node"/> are reachable from the others.</summary>
    Task ServingAsync(Node node);

    /// <summary>
    /// <paramref name="node"/> is lost, as a crashed process (no goodbye): it and the others can no longer reach each other.
    /// Returns once that is so; the others may still be finding out (the test awaits the consequences).
    /// </summary>
    Task LoseAsync(Node node);
}

/// <summary>
/// What Tether promises across nodes, whatever carries the messages: one suite, run on every transport (the in-memory
/// network in Tether.Tests, NATS in Tether.Nats.Tests). Addresses from another node are used as they come back (a
/// spawned target's own address too): a node never takes a shortcut into another node's mailbox.
/// </summary>
public abstract class MultiNodeContractTests
{
    /// <summary>A hang guard only, never a timed claim. Generous: these tests share 2 cores with other builds; each wait ends as soon as its condition holds.</summary>
    protected static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    /// <summary>The message types of the suite, for a transport that carries registered contracts only.</summary>
    public static IReadOnlyList<(Type Type, string Name)> Contracts { get; } =
    [
        (typeof(Ask), "contract.ask"),
        (typeof(Fail), "contract.fail"),
        (typeof(Never), "contract.never"),
        (typeof(Ping), "contract.ping"),
        (typeof(Pong), "contract.pong"),
        (typeof(Numbered), "contract.numbered"),
        (typeof(GetSeen), "contract.get-seen"),
        (typeof(Delegate), "contract.delegate"),
        (typeof(Forward), "contract.forward"),
        (typeof(AskOn), "contract.ask-on"),
        (typeof(WhoAmI), "contract.whoami"),
        (typeof(MakeInstance), "contract.make-instance"),
        (typeof(Price), "contract.price"),
        (typeof(Crash), "contract.crash"),
    ];

    /// <summary>Starts an empty set of nodes on the transport under test.</summary>
    protected abstract Task<IMultiNode> StartAsync();

    public sealed record Ask(string Text) : IRequest<string>;

    public sealed record Fail(string Code) : IRequest<string>;

    public sealed record Never : IRequest<string>;

    public sealed record Ping(int Seq, Address ReplyTo);

    public sealed record Pong(int Seq);

    public sealed record Numbered(string From, int Seq);

    public sealed record GetSeen : IRequest<int>;

    public sealed record Delegate(Address To, string Text) : IRequest<string>;

    public sealed record Forward(ReplyToken<string> Token, string Text);

    public sealed record AskOn(Address Via) : IRequest<string>;

    public sealed record WhoAmI : IRequest<string>;

    public sealed record MakeInstance(string Factory) : IRequest<Address>;

    public sealed record Price(string Symbol, int Cents);

    public sealed record Crash;

    /// <summary>To a <see cref="Watcher"/> (on its own node): watch this target; answered once <c>ctx.Watch</c> has run.</summary>
    public sealed record WatchIt(Address Target) : IRequest<bool>;

    /// <summary>To a <see cref="Watcher"/>: stop watching this target.</summary>
    public sealed record UnwatchIt(Address Target) : IRequest<bool>;

    /// <summary>Watches what it is told to and records every <see cref="TargetEnded"/> it receives.</summary>
    public sealed class Watcher(ConcurrentQueue<TargetEnded> seen) : Target, ITarget<Watcher>
    {
        public static void Wire(Channels<Watcher> channels) => channels
            .Request<WatchIt, bool>(static (_, m, ctx) =>
            {
                ctx.Watch(m.Target);
                return true;
            })
            .Request<UnwatchIt, bool>(static (_, m, ctx) =>
            {
                ctx.Unwatch(m.Target);
                return true;
            })
            .On<TargetEnded>(static (self, m, _) => self.Seen(m));

        private void Seen(TargetEnded ended) => seen.Enqueue(ended);
    }

    /// <summary>Throws on <see cref="Crash"/>: spawned with <see cref="Supervision.Stop"/>, that ends it.</summary>
    public sealed class Fragile : Target, ITarget<Fragile>
    {
        public static void Wire(Channels<Fragile> channels) => channels.On<Crash>(static (_, _, _) => throw new InvalidOperationException("crashing on purpose"));
    }

    /// <summary>Answers, pings back, fails on purpose, never answers <see cref="Never"/>, counts numbered messages in order, tells its session.</summary>
    public sealed class Echo : Target, ITarget<Echo>
    {
        private readonly Dictionary<string, int> _last = [];
        private int _seen;
        private int _outOfOrder;

        public static void Wire(Channels<Echo> channels) => channels
            .Request<Ask, string>(static (_, m, ctx) => $"echo {m.Text} from {ctx.Self.Node}")
            .On<Ping>(static (_, m, ctx) => ctx.Send(m.ReplyTo, new Pong(m.Seq)))
            .Request<Fail, string>(static (_, m, _) => throw new TetherException(m.Code, "failing on purpose"))
            .Deferred<Never, string>(static (_, _, _, _) => { })
            .On<Numbered>(static (self, m, _) => self.Count(m))
            .Request<GetSeen, int>(static (self, _, _) => self._outOfOrder > 0 ? -self._outOfOrder : self._seen)
            .Request<WhoAmI, string>(static (_, _, ctx) => ctx.SessionToken ?? "(none)")
            .RequestAsync<AskOn, string>(static async (_, m, ctx) => $"{ctx.SessionToken ?? "(none)"}|{await ctx.Request(m.Via, new WhoAmI())}");

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

    /// <summary>Hands the reply token of a <see cref="Delegate"/> on to the target it names, inside a message.</summary>
    public sealed class Delegator : Target, ITarget<Delegator>
    {
        public static void Wire(Channels<Delegator> channels)
            => channels.Deferred<Delegate, string>(static (_, m, token, ctx) => ctx.Send(m.To, new Forward(token, m.Text)));
    }

    /// <summary>Answers a forwarded token, then tries a second answer and reports whether it was taken.</summary>
    public sealed class Answerer(TaskCompletionSource<bool> second) : Target, ITarget<Answerer>
    {
        public static void Wire(Channels<Answerer> channels) => channels.On<Forward>(static (self, m, ctx) =>
        {
            m.Token.Reply($"answered {m.Text} on {ctx.Self.Node}");
            self.Second(m.Token.TryReply("again"));
        });

        private void Second(bool accepted) => second.TrySetResult(accepted);
    }

    /// <summary>Collects the pongs it gets.</summary>
    public sealed class Collector(ConcurrentQueue<int> seen) : Target, ITarget<Collector>
    {
        public static void Wire(Channels<Collector> channels) => channels.On<Pong>(static (self, m, _) => self.Add(m.Seq));

        private void Add(int seq) => seen.Enqueue(seq);
    }

    /// <summary>An instance a factory makes: answers with its owner, and reports its end.</summary>
    public sealed class Instance(ConcurrentQueue<string> ended) : Target, ITarget<Instance>
    {
        public static void Wire(Channels<Instance> channels)
            => channels.Request<WhoAmI, string>(static (_, _, ctx) => $"owned by {ctx.Owner}");

        protected internal override void OnEnded(Context context, string reason) => ended.Enqueue(reason);
    }

    /// <summary>Creates instances through a factory (wherever it runs) and owns them.</summary>
    public sealed class Owner : Target, ITarget<Owner>
    {
        public static void Wire(Channels<Owner> channels)
            => channels.RequestAsync<MakeInstance, Address>(static async (_, m, ctx) => await ctx.Create(m.Factory));
    }

    /// <summary>An owner that wires <see cref="TargetEnded"/>: it learns of its instances' ends, wherever they run.</summary>
    public sealed class WatchfulOwner(ConcurrentQueue<TargetEnded> seen) : Target, ITarget<WatchfulOwner>
    {
        public static void Wire(Channels<WatchfulOwner> channels) => channels
            .RequestAsync<MakeInstance, Address>(static async (_, m, ctx) => await ctx.Create(m.Factory))
            .On<TargetEnded>(static (self, m, _) => self.Seen(m));

        private void Seen(TargetEnded ended) => seen.Enqueue(ended);
    }

    /// <summary>Subscribes to a topic on start and records the events it gets.</summary>
    public sealed class PriceWatcher(string topic, ConcurrentQueue<Price> seen, TaskCompletionSource subscribed) : Target, ITarget<PriceWatcher>
    {
        public static void Wire(Channels<PriceWatcher> channels) => channels.On<Price>(static (self, m, _) => self.Seen(m));

        protected internal override void OnStarted(Context context)
        {
            context.Subscribe(topic);
            subscribed.TrySetResult();
        }

        private void Seen(Price price) => seen.Enqueue(price);
    }

    protected static async Task Until(Func<bool> condition, string phase)
    {
        long start = Stopwatch.GetTimestamp();
        while (!condition())
        {
            Assert.True(Stopwatch.GetElapsedTime(start) < Wait, $"timed out waiting for: {phase}");
            await Task.Delay(10); // polling a condition with a deadline
        }
    }

    private static async Task<string?> FailureCode(Task task)
    {
        try
        {
            await task.WaitAsync(Wait);
            return null;
        }
        catch (TetherException ex)
        {
            return ex.Code;
        }
    }

    [Fact]
    public async Task Request_ToATargetOnAnotherNode_GetsItsAnswer()
    {
        await using IMultiNode nodes = await StartAsync();
        Node a = await nodes.AddNodeAsync("alpha");
        Node b = await nodes.AddNodeAsync("beta");
        Address echo = b.Spawn(() => new Echo());

        Assert.Equal("echo hi from beta", await a.Request(echo, new Ask("hi")).AsTask().WaitAsync(Wait));
    }

    [Fact]
    public async Task Request_HandlerFailsWithACode_TheRequesterOnAnotherNodeGetsTheCodeAndText()
    {
        await using IMultiNode nodes = await StartAsync();
        Node a = await nodes.AddNodeAsync("alpha");
        Node b = await nodes.AddNodeAsync("beta");
        Address echo = b.Spawn(() => new Echo());

        TetherException error = await Assert.ThrowsAsync<TetherException>(() => a.Request(echo, new Fail("app.refused")).AsTask().WaitAsync(Wait));

        Assert.Equal("app.refused", error.Code);
        Assert.Contains("failing on purpose", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_ToAnEndedTargetOnAnotherNode_FailsWithNoSuchTarget()
    {
        await using IMultiNode nodes = await StartAsync();
        Node a = await nodes.AddNodeAsync("alpha");
        Node b = await nodes.AddNodeAsync("beta");
        Address echo = b.Spawn(() => new Echo());
        Assert.Equal("echo 1 from beta", await a.Request(echo, new Ask("1")).AsTask().WaitAsync(Wait));
        b.End(echo);
        await Until(() => b.Statistics.Targets == 0, "the target to end");

        Assert.Equal(ErrorCodes.NoSuchTarget, await FailureCode(a.Request(echo, new Ask("2")).AsTask()));
    }

    [Fact]
    public async Task Request_NeverAnswered_EndsWithATimeoutAtItsDeadline()
    {
        await using IMultiNode nodes = await StartAsync();
        Node a = await nodes.AddNodeAsync("alpha");
        Node b = await nodes.AddNodeAsync("beta");
        Address echo = b.Spawn(() => new Echo());

        Assert.Equal(ErrorCodes.Timeout, await FailureCode(a.Request(echo, new Never(), TimeSpan.FromMilliseconds(300)).AsTask())); // the claim is the code; the time is checked in CrossNodeGuaranteeTests
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Send_ManySendersToATargetOnAnotherNode_KeepsOrderPerSender(int round)
    {
        await using IMultiNode nodes = await StartAsync();
        Node a = await nodes.AddNodeAsync("alpha");
        Node b = await nodes.AddNodeAsync("beta");
        Address echo = b.Spawn(() => new Echo());

        await Task.WhenAll(Enumerable.Range(0, 4).Select(s => Task.Run(() =>
        {
            for (int i = 0; i < 1000; i++)
            {
                a.Send(echo, new Numbered($"round{round}-sender{s}", i));
            }
        })));

        int seen = 0;
        long start = Stopwatch.GetTimestamp();
        while ((seen = await a.Request(echo, new GetSeen()).AsTask().WaitAsync(Wait)) is >= 0 and < 4000)
        {
            Assert.True(Stopwatch.GetElapsedTime(start) < Wait, $"only {seen} of 4000 arrived");
            await Task.Delay(10); // polling a condition with a deadline
        }

        Assert.Equal(4000, seen); // a negative count is the number of messages out of order
    }

    [Fact]
    public async Task Send_AnAddressInsideAMessage_LetsTheOtherNodeAnswerToIt()
    {
        await using IMultiNode nodes = await StartAsync();
        Node a = await nodes.AddNodeAsync("alpha");
        Node b = await nodes.AddNodeAsync("beta");
        Address echo = b.Spawn(() => new Echo());
        var seen = new ConcurrentQueue<int>();
        Address collector = a.Spawn(() => new Collector(seen));

        for (int i = 0; i < 300; i++)
        {
            a.Send(echo, new Ping(i, collector));
        }

        await Until(() => seen.Count == 300, "every pong to come back");
        Assert.Equal(Enumerable.Range(0, 300), seen);
    }

    [Fact]
    public async Task DeferredReply_ForwardedToAThirdNode_IsAnsweredThereExactlyOnce()
    {
        await using IMultiNode nodes = await StartAsync();
        Node a = await nodes.AddNodeAsync("alpha");
        Node b = await nodes.AddNodeAsync("beta");
        Node c = await nodes.AddNodeAsync("gamma");
        var second = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        Address answerer = c.Spawn(() => new Answerer(second));
        Address delegator = b.Spawn(() => new Delegator());

        string answer = await a.Request(delegator, new Delegate(answerer, "q")).AsTask().WaitAsync(Wait);

        Assert.Equal("answered q on gamma", answer);
        Assert.False(await second.Task.WaitAsync(Wait), "a second answer through the same token is refused to whoever tried it");
    }

    [Fact]
    public async Task Session_TravelsWithARequest_AndOnFromItsHandlerToAThirdNode()
    {
        await using IMultiNode nodes = await StartAsync();
        Node a = await nodes.AddNodeAsync("alpha");
        Node b = await nodes.AddNodeAsync("beta");
        Node c = await nodes.AddNodeAsync("gamma");
        Address relay = b.Spawn(() => new Echo());
        Address last = c.Spawn(() => new Echo());

        Assert.Equal("tok", await a.Request(last, new WhoAmI(), session: "tok").AsTask().WaitAsync(Wait));
        Assert.Equal("tok|tok", await a.Request(relay, new AskOn(last), session: "tok").AsTask().WaitAsync(Wait));
        Assert.Equal("(none)|(none)", await a.Request(relay, new AskOn(last)).AsTask().WaitAsync(Wait));
    }

    [Fact]
    public async Task ServiceRequest_FromAnotherNode_ReachesAnInstance_AnUnservedNameFailsWithNoSuchService()
    {
        await using IMultiNode nodes = await StartAsync();
        Node a = await nodes.AddNodeAsync("alpha");
        Node b = await nodes.AddNodeAsync("beta");
        b.RegisterService("echo", b.Spawn(() => new Echo()));
        await nodes.ServingAsync(b);

        Assert.Equal("echo s from beta", await a.Request("echo", new Ask("s")).AsTask().WaitAsync(Wait));
        Assert.Equal("tok", await a.Request("echo", new WhoAmI(), session: "tok").AsTask().WaitAsync(Wait));
        Assert.Equal(ErrorCodes.NoSuchService, await FailureCode(a.Request("nobody-serves-this", new Ask("x")).AsTask()));
    }

    [Fact]
    public async Task Factory_OnAnotherNode_MakesAnInstanceOwnedAcrossNodes_ThatEndsWithItsOwner()
    {
        await using IMultiNode nodes = await StartAsync();
        Node a = await nodes.AddNodeAsync("alpha");
        Node b = await nodes.AddNodeAsync("beta");
        ConcurrentQueue<string> ended = await ServeInstancesAsync(nodes, b);
        Address owner = a.Spawn(() => new Owner());

        Address instance = await a.Request(owner, new MakeInstance("instance")).AsTask().WaitAsync(Wait);

        Assert.Equal("beta", instance.Node);
        Assert.Equal($"owned by {owner}", await a.Request(instance, new WhoAmI()).AsTask().WaitAsync(Wait));
        a.End(owner);
        await Until(() => !ended.IsEmpty, "the instance on beta to end with its owner on alpha");
        Assert.Equal(ErrorCodes.NoSuchTarget, await FailureCode(a.Request(instance, new WhoAmI()).AsTask()));
    }

    [Fact]
    public async Task Factory_UnservedName_FailsWithNoSuchService()
    {
        await using IMultiNode nodes = await StartAsync();
        Node a = await nodes.AddNodeAsync("alpha");
        await nodes.AddNodeAsync("beta");
        Address owner = a.Spawn(() => new Owner());

        Assert.Equal(ErrorCodes.NoSuchService, await FailureCode(a.Request(owner, new MakeInstance("no-such-factory")).AsTask()));
    }

    [Fact]
    public async Task NodeLost_EndsTheInstancesItOwnedElsewhere_AndFailsWhatItHeldAtOnce()
    {
        await using IMultiNode nodes = await StartAsync();
        Node a = await nodes.AddNodeAsync("alpha");
        Node b = await nodes.AddNodeAsync("beta");
        Node c = await nodes.AddNodeAsync("gamma");
        ConcurrentQueue<string> ended = await ServeInstancesAsync(nodes, b);
        Address owner = a.Spawn(() => new Owner());
        Address instance = await a.Request(owner, new MakeInstance("instance")).AsTask().WaitAsync(Wait);
        Address stuck = a.Spawn(() => new Echo());
        Task pending = c.Request(stuck, new Never(), TimeSpan.FromSeconds(60)).AsTask(); // far beyond the waits below

        await nodes.LoseAsync(a);

        await Until(() => !ended.IsEmpty, "beta to end the instance whose owner's node was lost");
        Assert.Contains("unreachable", Assert.Single(ended), StringComparison.Ordinal);
        Assert.Equal(ErrorCodes.NodeUnreachable, await FailureCode(pending));
        Assert.Equal(ErrorCodes.NoSuchTarget, await FailureCode(c.Request(instance, new WhoAmI()).AsTask()));
    }

    /// <summary>Registers the factory "instance" on <paramref name="node"/> and waits until the others can reach it; returns where the instances' ends are recorded.</summary>
    private static async Task<ConcurrentQueue<string>> ServeInstancesAsync(IMultiNode nodes, Node node)
    {
        var ended = new ConcurrentQueue<string>();
        node.RegisterFactory("instance", _ => new Instance(ended));
        await nodes.ServingAsync(node);
        return ended;
    }

    private static async Task Watch(Node node, Address watcher, Address target)
        => Assert.True(await node.Request(watcher, new WatchIt(target)).AsTask().WaitAsync(Wait));

    /// <summary>
    /// The watch tests' common start: alpha and beta on the transport under test, and on alpha a <see cref="Watcher"/>
    /// that records in <see cref="Seen"/> every end it learns of. Disposing it stops the nodes.
    /// </summary>
    protected sealed class WatchScene(IMultiNode nodes, Node alpha, Node beta, Address watcher, ConcurrentQueue<TargetEnded> seen) : IAsyncDisposable
    {
        public IMultiNode Nodes => nodes;

        public Node Alpha => alpha;

        public Node Beta => beta;

        /// <summary>The watcher on alpha.</summary>
        public Address Watcher => watcher;

        /// <summary>What the watcher has learnt, in the order it did.</summary>
        public ConcurrentQueue<TargetEnded> Seen => seen;

        /// <summary>Has the watcher watch <paramref name="target"/>; returns once its <c>ctx.Watch</c> has run.</summary>
        public Task WatchAsync(Address target) => Watch(alpha, watcher, target);

        public ValueTask DisposeAsync() => nodes.DisposeAsync();
    }

    private async Task<WatchScene> StartWatchSceneAsync()
    {
        IMultiNode nodes = await StartAsync();
        try
        {
            Node alpha = await nodes.AddNodeAsync("alpha");
            Node beta = await nodes.AddNodeAsync("beta");
            var seen = new ConcurrentQueue<TargetEnded>();
            return new WatchScene(nodes, alpha, beta, alpha.Spawn(() => new Watcher(seen)), seen);
        }
        catch
        {
            await nodes.DisposeAsync();
            throw;
        }
    }

    private static int Count(ConcurrentQueue<TargetEnded> seen, Address target) => seen.Count(e => e.Instance == target);

    [Fact]
    public async Task Watch_ATargetOnAnotherNode_ReportsItsEndOnce_ToEveryWatcher()
    {
        await using WatchScene scene = await StartWatchSceneAsync();
        (Node a, Address one, ConcurrentQueue<TargetEnded> first) = (scene.Alpha, scene.Watcher, scene.Seen);
        Address echo = scene.Beta.Spawn(() => new Echo());
        Address later = scene.Beta.Spawn(() => new Echo());
        var second = new ConcurrentQueue<TargetEnded>();
        Address two = a.Spawn(() => new Watcher(second));
        await scene.WatchAsync(echo);
        await scene.WatchAsync(echo); // twice: still reported once
        await Watch(a, two, echo);
        Assert.Equal(1, a.RemoteWatchCount); // one registration for the target, however many watchers

        a.End(echo);
        await Until(() => Count(first, echo) == 1 && Count(second, echo) == 1, "both watchers on alpha to learn that the target on beta ended");

        // Anything more about the first target would come before this one's report (both from beta, in order).
        await scene.WatchAsync(later);
        a.End(later);
        await Until(() => Count(first, later) == 1, "the second target's end");
        Assert.Equal(1, Count(first, echo));
        Assert.Equal("ended by the node", first.Single(e => e.Instance == echo).Reason);
        Assert.Equal("beta", first.Single(e => e.Instance == echo).Instance.Node);
        Assert.Equal(0, a.RemoteWatchCount);
    }

    [Fact]
    public async Task Watch_ATargetOnAnotherNodeThatFails_ReportsTheFailure()
    {
        await using WatchScene scene = await StartWatchSceneAsync();
        ConcurrentQueue<TargetEnded> seen = scene.Seen;
        Address fragile = scene.Beta.Spawn(() => new Fragile(), new SpawnOptions { Supervision = Supervision.Stop });
        await scene.WatchAsync(fragile);

        scene.Alpha.Send(fragile, new Crash());

        await Until(() => !seen.IsEmpty, "the watcher to learn that the target failed");
        TargetEnded ended = Assert.Single(seen);
        Assert.Equal(fragile, ended.Instance);
        Assert.Contains("stopped by supervision after InvalidOperationException", ended.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Watch_AnInstanceWhoseTetherBreaks_ReportsOwnerEnded()
    {
        await using WatchScene scene = await StartWatchSceneAsync();
        (Node a, ConcurrentQueue<TargetEnded> seen) = (scene.Alpha, scene.Seen);
        await ServeInstancesAsync(scene.Nodes, scene.Beta);
        Address owner = a.Spawn(() => new Owner());
        Address instance = await a.Request(owner, new MakeInstance("instance")).AsTask().WaitAsync(Wait);
        await scene.WatchAsync(instance);

        a.End(owner);

        await Until(() => !seen.IsEmpty, "the watcher to learn that the instance ended with its owner");
        Assert.Equal(new TargetEnded(instance, "owner ended"), Assert.Single(seen));
    }

    [Fact]
    public async Task Owner_WiringTargetEnded_LearnsThatItsInstanceOnAnotherNodeEnded()
    {
        await using IMultiNode nodes = await StartAsync();
        Node a = await nodes.AddNodeAsync("alpha");
        Node b = await nodes.AddNodeAsync("beta");
        await ServeInstancesAsync(nodes, b);
        var seen = new ConcurrentQueue<TargetEnded>();
        Address owner = a.Spawn(() => new WatchfulOwner(seen));
        Address instance = await a.Request(owner, new MakeInstance("instance")).AsTask().WaitAsync(Wait);
        Assert.Equal("beta", instance.Node);
        Assert.Equal(1, a.RemoteWatchCount); // the owner watched it before it answered

        a.End(instance); // not by its owner: from outside any target

        await Until(() => !seen.IsEmpty, "the owner on alpha to learn that its instance on beta ended");
        Assert.Equal(new TargetEnded(instance, "ended by the node"), Assert.Single(seen));
    }

    [Fact]
    public async Task Watch_Unwatched_ReportsNothing_AndTheRegistrationGoes()
    {
        await using WatchScene scene = await StartWatchSceneAsync();
        (Node a, ConcurrentQueue<TargetEnded> seen) = (scene.Alpha, scene.Seen);
        Address quiet = scene.Beta.Spawn(() => new Echo());
        Address marker = scene.Beta.Spawn(() => new Echo());
        await scene.WatchAsync(quiet);
        await scene.WatchAsync(marker);
        Assert.True(await a.Request(scene.Watcher, new UnwatchIt(quiet)).AsTask().WaitAsync(Wait));
        Assert.Equal(1, a.RemoteWatchCount);

        a.End(quiet);
        a.End(marker); // its report comes after anything about the first (both from beta, in order)

        await Until(() => !seen.IsEmpty, "the report of the still-watched target");
        Assert.Equal(marker, Assert.Single(seen).Instance);
        Assert.Equal(0, a.RemoteWatchCount);
    }

    [Fact]
    public async Task Watch_ATargetAlreadyGone_ReportsNoSuchTargetAtOnce()
    {
        await using WatchScene scene = await StartWatchSceneAsync();
        (Node b, ConcurrentQueue<TargetEnded> seen) = (scene.Beta, scene.Seen);
        Address echo = b.Spawn(() => new Echo());
        b.End(echo);
        await Until(() => b.Statistics.Targets == 0, "the target to end");

        await scene.WatchAsync(echo);

        await Until(() => !seen.IsEmpty, "the watch of a target that is gone to fire");
        Assert.Equal(new TargetEnded(echo, "no such target"), Assert.Single(seen));
        Assert.Equal(0, scene.Alpha.RemoteWatchCount);
    }

    [Fact]
    public async Task Watch_TheWatcherEnds_ItsRegistrationGoes()
    {
        await using WatchScene scene = await StartWatchSceneAsync();
        Node a = scene.Alpha;
        Address echo = scene.Beta.Spawn(() => new Echo());
        await scene.WatchAsync(echo);
        Assert.Equal(1, a.RemoteWatchCount);

        await a.EndAsync(scene.Watcher).WaitAsync(Wait);

        Assert.Equal(0, a.RemoteWatchCount);
        await a.EndAsync(echo).WaitAsync(Wait); // the target's end goes to nobody
        Assert.Empty(scene.Seen);
    }

    [Fact]
    public async Task EndAsync_ATargetOnAnotherNode_CompletesWhenItHasEnded()
    {
        await using IMultiNode nodes = await StartAsync();
        Node a = await nodes.AddNodeAsync("alpha");
        Node b = await nodes.AddNodeAsync("beta");
        var ended = new ConcurrentQueue<string>();
        Address instance = b.Spawn(() => new Instance(ended));
        Assert.StartsWith("owned by", await a.Request(instance, new WhoAmI()).AsTask().WaitAsync(Wait), StringComparison.Ordinal);

        await a.EndAsync(instance).WaitAsync(Wait);

        Assert.Equal("ended by the node", Assert.Single(ended)); // its OnEnded has run by then
        Assert.Equal(ErrorCodes.NoSuchTarget, await FailureCode(a.Request(instance, new WhoAmI()).AsTask()));
        await a.EndAsync(instance).WaitAsync(Wait); // gone already: completes too
        Assert.Equal(0, a.RemoteWatchCount);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Watch_ManyWatchersOfManyRemoteTargets_EndedConcurrently_EachLearnsEachEndOnce(int round)
    {
        await using IMultiNode nodes = await StartAsync();
        Node a = await nodes.AddNodeAsync("alpha");
        Node b = await nodes.AddNodeAsync("beta");
        Address[] targets = Enumerable.Range(0, 20).Select(_ => b.Spawn(() => new Echo())).ToArray();
        ConcurrentQueue<TargetEnded>[] seen = Enumerable.Range(0, 8).Select(_ => new ConcurrentQueue<TargetEnded>()).ToArray();
        Address[] watchers = seen.Select(q => a.Spawn(() => new Watcher(q))).ToArray();

        await Task.WhenAll(watchers.Select(w => Task.Run(async () =>
        {
            foreach (Address target in targets)
            {
                await Watch(a, w, target);
            }
        })));
        Assert.Equal(targets.Length, a.RemoteWatchCount);
        await Task.WhenAll(targets.Select(t => Task.Run(() => a.EndAsync(t).WaitAsync(Wait))));

        await Until(() => seen.All(q => q.Count >= targets.Length), $"round {round}: every watcher to learn every end");
        Assert.All(seen, q => Assert.Equal(targets.OrderBy(t => t.Id), q.Select(e => e.Instance).OrderBy(t => t.Id)));
        Assert.Equal(0, a.RemoteWatchCount);
    }

    [Fact]
    public async Task Watch_TheWatchedTargetsNodeIsLost_ReportsItUnreachable()
    {
        await using WatchScene scene = await StartWatchSceneAsync();
        ConcurrentQueue<TargetEnded> seen = scene.Seen;
        Address echo = scene.Beta.Spawn(() => new Echo());
        await scene.WatchAsync(echo);

        await scene.Nodes.LoseAsync(scene.Beta);

        await Until(() => !seen.IsEmpty, "the watcher to learn that the watched target's node was lost");
        TargetEnded ended = Assert.Single(seen);
        Assert.Equal(echo, ended.Instance);
        Assert.Equal("node beta is unreachable", ended.Reason);
    }

    [Fact]
    public async Task Topic_EventPublishedOnOneNode_ReachesTheSubscribersOnEveryOther()
    {
        await using IMultiNode nodes = await StartAsync();
        Node a = await nodes.AddNodeAsync("alpha");
        Node b = await nodes.AddNodeAsync("beta");
        Node c = await nodes.AddNodeAsync("gamma");
        var onB = new ConcurrentQueue<Price>();
        var onC = new ConcurrentQueue<Price>();
        var subscribedB = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var subscribedC = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        b.Spawn(() => new PriceWatcher("prices", onB, subscribedB));
        c.Spawn(() => new PriceWatcher("prices", onC, subscribedC));
        await Task.WhenAll(subscribedB.Task, subscribedC.Task).WaitAsync(Wait);

        // A subscription on another node takes effect asynchronously on some transports: publish until it arrives.
        long start = Stopwatch.GetTimestamp();
        int cents = 0;
        while (onB.IsEmpty || onC.IsEmpty)
        {
            Assert.True(Stopwatch.GetElapsedTime(start) < Wait, "events published on alpha never reached both other nodes");
            a.Publish("prices", new Price("EURUSD", ++cents));
            await Task.Delay(20); // polling a condition with a deadline
        }

        a.Publish("prices", new Price("EURUSD", 1000));
        await Until(() => onB.Any(p => p.Cents == 1000) && onC.Any(p => p.Cents == 1000), "the last event on both nodes");
        Assert.Equal(onB.Select(p => p.Cents).Order(), onB.Select(p => p.Cents)); // in the order published
    }
}
