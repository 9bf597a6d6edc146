using Tether.Tests.TestSupport;

namespace Tether.Tests;

/// <summary>A target never runs two handlers at once, also across the awaits of asynchronous handlers.</summary>
public sealed class ExclusivityTests
{
    private const int Threads = 8;
    private const int PerThread = 500;

    public static TheoryData<int> Rounds => [.. Enumerable.Range(1, 8)];

    [Theory]
    [MemberData(nameof(Rounds))]
    public async Task Handlers_ManyConcurrentSendersOfSyncAndAsyncMessages_NeverOverlap(int round)
    {
        await using Node node = Node.Create();
        var probe = new OverlapProbe();
        var busy = new Busy(probe, expected: Threads * PerThread);
        Address target = node.Spawn(() => busy, new SpawnOptions { MailboxCapacity = Threads * PerThread });
        Address helper = node.Spawn(() => new Probe());

        await Task.WhenAll(Enumerable.Range(0, Threads).Select(t => Task.Run(() =>
        {
            for (int i = 0; i < PerThread; i++)
            {
                switch ((i + t) % 3)
                {
                    case 0:
                        node.Send(target, new SyncWork());
                        break;
                    case 1:
                        node.Send(target, new YieldingWork(Yields: 1 + (round % 3)));
                        break;
                    default:
                        node.Send(target, new AskingWork(helper));
                        break;
                }
            }
        }))).Within($"round {round}: the senders send");

        await busy.AllDone.Task.Within($"round {round}: every handler finishes");
        Assert.Equal(1, probe.MaxInside);
        Assert.True(probe.Entries >= Threads * PerThread, "the probe saw fewer handler stretches than messages");

        // A plain (non-atomic) counter loses updates if two handlers ever interleave; it must equal the count.
        Assert.Equal(Threads * PerThread, busy.UnsafeCount);
    }

    [Theory]
    [MemberData(nameof(Rounds))]
    public async Task Handlers_ConcurrentRequestsWithAwaits_NeverOverlapAndAllAnswer(int round)
    {
        await using Node node = Node.Create();
        var probe = new OverlapProbe();
        var busy = new Busy(probe, expected: int.MaxValue);
        Address target = node.Spawn(() => busy);
        Address helper = node.Spawn(() => new Probe());

        Task<int>[] requests = [.. Enumerable.Range(0, 1_000).Select(i => Task.Run(async () =>
            await node.Request(target, new AskingRequest(helper, i))))];

        int[] answers = await Task.WhenAll(requests).Within($"round {round}: 1,000 concurrent requests are answered");
        Assert.Equal(Enumerable.Range(0, 1_000), answers);
        Assert.Equal(1, probe.MaxInside);
    }

    private sealed record SyncWork;

    private sealed record YieldingWork(int Yields);

    private sealed record AskingWork(Address Helper);

    private sealed record AskingRequest(Address Helper, int N) : IRequest<int>;

    private sealed class Busy(OverlapProbe probe, int expected) : Target, ITarget<Busy>
    {
        private int _done;

        public int UnsafeCount { get; private set; }

        public TaskCompletionSource AllDone { get; } = Waits.NewSignal();

        public static void Wire(Channels<Busy> channels) => channels
            .On<SyncWork>(static (self, m, ctx) =>
            {
                self.Enter();
                self.UnsafeCount++;
                self.Finish();
            })
            .OnAsync<YieldingWork>(static async (self, m, ctx) =>
            {
                self.Enter();
                for (int i = 0; i < m.Yields; i++)
                {
                    self.Exit();
                    await Task.Yield(); // the rest runs as a later turn; other messages may run in between
                    self.Enter();
                }

                self.UnsafeCount++;
                self.Finish();
            })
            .OnAsync<AskingWork>(static async (self, m, ctx) =>
            {
                self.Enter();
                self.Exit();
                int echoed = await ctx.Request(m.Helper, new Ping(1));
                self.Enter();
                self.UnsafeCount += echoed;
                self.Finish();
            })
            .RequestAsync<AskingRequest, int>(static async (self, m, ctx) =>
            {
                self.Enter();
                self.Exit();
                int echoed = await ctx.Request(m.Helper, new Ping(m.N));
                self.Enter();
                self.Exit();
                await Task.Yield();
                self.Enter();
                self.Exit();
                return echoed;
            });

        private void Enter() => probe.Enter();

        private void Exit() => probe.Exit();

        private void Finish()
        {
            probe.Exit();
            if (++_done == expected)
            {
                AllDone.TrySetResult();
            }
        }
    }
}
