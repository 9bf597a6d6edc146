using Tether.Tests.TestSupport;

namespace Tether.Tests;

/// <summary>
/// Awaiting a request inside a handler never deadlocks a call chain. The documented semantics (see the remarks
/// on <see cref="Target"/>) are turn-based re-entry: while A awaits B, A's mailbox takes B's request to A.
/// </summary>
public sealed class CallChainTests
{
    [Fact]
    public async Task Request_TwoCycleAToBToA_CompletesByReentry()
    {
        await using Node node = Node.Create(new NodeOptions { DefaultRequestTimeout = TimeSpan.FromSeconds(10) });
        var probeA = new OverlapProbe();
        var probeB = new OverlapProbe();
        Address a = node.Spawn(() => new Alpha(probeA));
        Address b = node.Spawn(() => new Beta(probeB));

        int answer = await node.Request(a, new Start(b, 4)).Within("A → B → A completes");

        // B asked A for its state (7) while A was awaiting B; B returns 7*10+4; A adds 1.
        Assert.Equal(75, answer);
        Assert.Equal(1, probeA.MaxInside);
        Assert.Equal(1, probeB.MaxInside);
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(2, 9)]
    [InlineData(3, 3)]
    [InlineData(3, 12)]
    [InlineData(5, 25)]
    public async Task Request_RingOfTargetsAwaitingEachOther_CompletesAndHandlersNeverOverlap(int ringSize, int hops)
    {
        await using Node node = Node.Create(new NodeOptions { DefaultRequestTimeout = TimeSpan.FromSeconds(10) });
        OverlapProbe[] probes = [.. Enumerable.Range(0, ringSize).Select(_ => new OverlapProbe())];
        Link[] links = [.. probes.Select((p, i) => new Link(p, i))];
        Address[] ring = [.. links.Select(l => node.Spawn(() => l))];
        for (int i = 0; i < ringSize; i++)
        {
            await node.Request(ring[i], new Connect(ring[(i + 1) % ringSize])).Within($"link {i} is connected");
        }

        // Many chains at once, each going round the ring several times: every link holds many suspended handlers.
        const int chains = 50;
        for (int iteration = 0; iteration < 10; iteration++)
        {
            Task<string>[] running = [.. Enumerable.Range(0, chains).Select(c => node.Request(ring[c % ringSize], new Hop(hops)).AsTask())];
            string[] paths = await Task.WhenAll(running).Within($"iteration {iteration}: {chains} chains of {hops} hops round a {ringSize}-cycle complete");

            for (int c = 0; c < chains; c++)
            {
                string expected = string.Join(",", Enumerable.Range(0, hops + 1).Select(h => (c + h) % ringSize));
                Assert.Equal(expected, paths[c]);
            }
        }

        Assert.All(probes, p => Assert.Equal(1, p.MaxInside));
        Assert.Equal(0, node.Statistics.PendingRequests);
    }

    [Fact]
    public async Task Request_ThreeCycleAToBToCToA_CompletesByReentry()
    {
        await using Node node = Node.Create(new NodeOptions { DefaultRequestTimeout = TimeSpan.FromSeconds(10) });
        var probe = new OverlapProbe();
        Link[] links = [new(probe, 0), new(new OverlapProbe(), 1), new(new OverlapProbe(), 2)];
        Address[] ring = [.. links.Select(l => node.Spawn(() => l))];
        await node.Request(ring[0], new Connect(ring[1])).Within("A → B");
        await node.Request(ring[1], new Connect(ring[2])).Within("B → C");
        await node.Request(ring[2], new Connect(ring[0])).Within("C → A");

        string path = await node.Request(ring[0], new Hop(3)).Within("A → B → C → A completes");

        Assert.Equal("0,1,2,0", path);
        Assert.Equal(1, probe.MaxInside);
    }

    [Fact]
    public async Task Request_ReentrantTurn_SeesStateChangedDuringTheAwait()
    {
        await using Node node = Node.Create();
        var probeA = new OverlapProbe();
        Address a = node.Spawn(() => new Alpha(probeA));
        Address b = node.Spawn(() => new Beta(new OverlapProbe()));

        // B bumps A's state while A awaits B: the code after A's await sees the change (the documented price of re-entry).
        int stateAfter = await node.Request(a, new StartAndReport(b)).Within("A reports its state after awaiting B");

        Assert.Equal(8, stateAfter);
    }

    private sealed record Start(Address B, int Add) : IRequest<int>;

    private sealed record StartAndReport(Address B) : IRequest<int>;

    private sealed record AskBack(Address A, int Add, bool Bump) : IRequest<int>;

    private sealed record GetState : IRequest<int>;

    private sealed record Bump : IRequest<int>;

    private sealed record Connect(Address Next) : IRequest<bool>;

    private sealed record Hop(int Remaining) : IRequest<string>;

    private sealed class Alpha(OverlapProbe probe) : Target, ITarget<Alpha>
    {
        private readonly OverlapProbe _probe = probe;
        private int _state = 7;

        public static void Wire(Channels<Alpha> channels) => channels
            .RequestAsync<Start, int>(static async (self, m, ctx) =>
            {
                self._probe.Enter();
                self._probe.Exit();
                int fromB = await ctx.Request(m.B, new AskBack(ctx.Self, m.Add, Bump: false));
                self._probe.Enter();
                self._probe.Exit();
                return fromB + 1;
            })
            .RequestAsync<StartAndReport, int>(static async (self, m, ctx) =>
            {
                await ctx.Request(m.B, new AskBack(ctx.Self, 0, Bump: true));
                return self._state;
            })
            .Request<GetState, int>(static (self, m, ctx) =>
            {
                self._probe.Enter();
                self._probe.Exit();
                return self._state;
            })
            .Request<Bump, int>(static (self, m, ctx) => ++self._state);
    }

    private sealed class Beta(OverlapProbe probe) : Target, ITarget<Beta>
    {
        private readonly OverlapProbe _probe = probe;

        public static void Wire(Channels<Beta> channels) => channels
            .RequestAsync<AskBack, int>(static async (self, m, ctx) =>
            {
                self._probe.Enter();
                self._probe.Exit();
                int state = m.Bump ? await ctx.Request(m.A, new Bump()) : await ctx.Request(m.A, new GetState());
                self._probe.Enter();
                self._probe.Exit();
                return (state * 10) + m.Add;
            });
    }

    private sealed class Link(OverlapProbe probe, int index) : Target, ITarget<Link>
    {
        private readonly OverlapProbe _probe = probe;
        private readonly int _index = index;
        private Address _next;

        public static void Wire(Channels<Link> channels) => channels
            .Request<Connect, bool>(static (self, m, ctx) =>
            {
                self._next = m.Next;
                return true;
            })
            .RequestAsync<Hop, string>(static async (self, m, ctx) =>
            {
                self._probe.Enter();
                string here = self._index.ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (m.Remaining == 0)
                {
                    self._probe.Exit();
                    return here;
                }

                Address next = self._next;
                self._probe.Exit();
                string rest = await ctx.Request(next, new Hop(m.Remaining - 1));
                self._probe.Enter();
                self._probe.Exit();
                return here + "," + rest;
            });
    }
}
