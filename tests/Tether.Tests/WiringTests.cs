using Tether.Tests.TestSupport;

namespace Tether.Tests;

public sealed class WiringTests
{
    [Fact]
    public async Task Wire_ManyTargetsOfOneTypeSpawnedConcurrently_RunsOncePerType()
    {
        await using Node node = Node.Create();
        int before = CountedWiring.WireCalls;

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < 250; i++)
            {
                node.Spawn(() => new CountedWiring());
            }
        }))).Within("spawning 2,000 targets of one type");

        Assert.Equal(2_000, node.Statistics.Targets);
        Assert.Equal(1, CountedWiring.WireCalls);
        Assert.True(before <= 1, "Wire ran more than once before this test");
    }

    [Fact]
    public async Task Wire_HandlersOfEachType_AreDispatchedByMessageType()
    {
        await using Node node = Node.Create();
        Address target = node.Spawn(() => new ManyChannels());

        // More than eight channels: the dispatch table switches from a linear scan to a frozen map.
        for (int i = 0; i < 10; i++)
        {
            string answer = await node.Request(target, new Ask(i)).Within($"channel {i} answers");
            Assert.Equal($"channel {i}", answer);
        }
    }

    [Fact]
    public async Task Wire_TwoChannelsForOneMessageType_EverySpawnFailsNamingTheType()
    {
        await using Node node = Node.Create();

        InvalidOperationException first = Assert.Throws<InvalidOperationException>(() => node.Spawn(() => new DoubleWired()));
        InvalidOperationException second = Assert.Throws<InvalidOperationException>(() => node.Spawn(() => new DoubleWired()));

        Assert.Contains(nameof(DoubleWired), first.Message, StringComparison.Ordinal);
        Assert.Contains("two input channels", first.Message, StringComparison.Ordinal);
        Assert.Equal(first.Message, second.Message);
        Assert.Equal(0, node.Statistics.Targets);
    }

    [Fact]
    public async Task Spawn_CreateReturnsSameInstanceTwice_Throws()
    {
        await using Node node = Node.Create();
        var instance = new CountedWiring();
        node.Spawn(() => instance);

        Assert.Throws<InvalidOperationException>(() => node.Spawn(() => instance));
        Assert.Equal(1, node.Statistics.Targets);
    }

    [Fact]
    public async Task Spawn_OnStartedThrows_FailsWithHandlerFailedAndLeavesNoTarget()
    {
        await using Node node = Node.Create();

        TetherException error = Assert.Throws<TetherException>(() => node.Spawn(() => new FailsToStart()));

        Assert.Equal(ErrorCodes.HandlerFailed, error.Code);
        Assert.IsType<InvalidOperationException>(error.InnerException);
        Assert.Equal(0, node.Statistics.Targets);
    }

    private sealed record Ask(int Channel) : IRequest<string>;

    private sealed record M0;

    private sealed record M1;

    private sealed record M2;

    private sealed record M3;

    private sealed record M4;

    private sealed record M5;

    private sealed record M6;

    private sealed record M7;

    private sealed record M8;

    private sealed class CountedWiring : Target, ITarget<CountedWiring>
    {
        private static int s_wireCalls;

        public static int WireCalls => Volatile.Read(ref s_wireCalls);

        public static void Wire(Channels<CountedWiring> channels)
        {
            Interlocked.Increment(ref s_wireCalls);
            channels.On<M0>(static (self, m, ctx) => { });
        }
    }

    private sealed class ManyChannels : Target, ITarget<ManyChannels>
    {
        public static void Wire(Channels<ManyChannels> channels) => channels
            .On<M0>(static (self, m, ctx) => { })
            .On<M1>(static (self, m, ctx) => { })
            .On<M2>(static (self, m, ctx) => { })
            .On<M3>(static (self, m, ctx) => { })
            .On<M4>(static (self, m, ctx) => { })
            .On<M5>(static (self, m, ctx) => { })
            .On<M6>(static (self, m, ctx) => { })
            .On<M7>(static (self, m, ctx) => { })
            .On<M8>(static (self, m, ctx) => { })
            .Request<Ask, string>(static (self, m, ctx) => $"channel {m.Channel}");
    }

    private sealed class DoubleWired : Target, ITarget<DoubleWired>
    {
        public static void Wire(Channels<DoubleWired> channels) => channels
            .On<M0>(static (self, m, ctx) => { })
            .On<M0>(static (self, m, ctx) => { });
    }

    private sealed class FailsToStart : Target, ITarget<FailsToStart>
    {
        public static void Wire(Channels<FailsToStart> channels) => channels.On<M0>(static (self, m, ctx) => { });

        protected internal override void OnStarted(Context context) => throw new InvalidOperationException("no");
    }
}
