using Tether.Tests.TestSupport;

namespace Tether.Tests;

/// <summary>ctx.Schedule and ctx.ScheduleEvery, driven by a manual clock so every tick is accounted for.</summary>
public sealed class TimerTests
{
    private static readonly TimeSpan s_period = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task Schedule_Once_FiresOnceAtItsDueTime()
    {
        var time = new ManualTimeProvider();
        await using Node node = Node.Create(new NodeOptions { TimeProvider = time });
        int baseline = time.ActiveTimers;
        Address ticker = node.Spawn(() => new Ticker());
        await node.Request(ticker, new StartOnce(s_period)).Within("the ticker schedules once");

        time.Advance(s_period - TimeSpan.FromTicks(1));
        Assert.Equal(0, await Ticks(node, ticker, "before the due time"));

        time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(1, await Ticks(node, ticker, "at the due time"));

        time.Advance(s_period * 10);
        Assert.Equal(1, await Ticks(node, ticker, "long after"));
        Assert.Equal(baseline, time.ActiveTimers);
    }

    [Fact]
    public async Task ScheduleEvery_Periodic_FiresOncePerPeriod()
    {
        var time = new ManualTimeProvider();
        await using Node node = Node.Create(new NodeOptions { TimeProvider = time });
        Address ticker = node.Spawn(() => new Ticker());
        await node.Request(ticker, new StartEvery(s_period)).Within("the ticker schedules periodically");

        for (int i = 1; i <= 5; i++)
        {
            time.Advance(s_period);
            Assert.Equal(i, await Ticks(node, ticker, $"period {i}"));
        }

        time.Advance(s_period * 5);
        Assert.Equal(10, await Ticks(node, ticker, "after five more periods at once"));
    }

    [Fact]
    public async Task ScheduleEvery_Disposed_StopsTicking()
    {
        var time = new ManualTimeProvider();
        await using Node node = Node.Create(new NodeOptions { TimeProvider = time });
        int baseline = time.ActiveTimers;
        Address ticker = node.Spawn(() => new Ticker());
        await node.Request(ticker, new StartEvery(s_period)).Within("the ticker schedules periodically");
        time.Advance(s_period * 2);
        Assert.Equal(2, await Ticks(node, ticker, "two periods"));
        Assert.Equal(baseline + 1, time.ActiveTimers);

        await node.Request(ticker, new Cancel()).Within("the ticker disposes its timer");
        time.Advance(s_period * 10);

        Assert.Equal(2, await Ticks(node, ticker, "after cancelling"));
        Assert.Equal(baseline, time.ActiveTimers);
    }

    [Fact]
    public async Task Schedule_DisposedBeforeDue_NeverFires()
    {
        var time = new ManualTimeProvider();
        await using Node node = Node.Create(new NodeOptions { TimeProvider = time });
        Address ticker = node.Spawn(() => new Ticker());
        await node.Request(ticker, new StartOnce(s_period)).Within("the ticker schedules once");

        await node.Request(ticker, new Cancel()).Within("the ticker cancels before the due time");
        time.Advance(s_period * 3);

        Assert.Equal(0, await Ticks(node, ticker, "after the cancelled due time"));
    }

    [Fact]
    public async Task ScheduleEvery_TargetEnds_TimersAreCancelledAndNoTickFollows()
    {
        var time = new ManualTimeProvider();
        await using Node node = Node.Create(new NodeOptions { TimeProvider = time });
        int baseline = time.ActiveTimers;
        var ticker = new Ticker();
        Address address = node.Spawn(() => ticker);
        await node.Request(address, new StartEvery(s_period)).Within("a periodic timer");
        await node.Request(address, new StartOnce(s_period * 50)).Within("a one-shot timer far ahead");
        time.Advance(s_period);
        Assert.Equal(1, await Ticks(node, address, "one period"));
        Assert.Equal(baseline + 2, time.ActiveTimers);

        node.End(address);
        await ticker.Ended.Task.Within("the ticker ends");

        Assert.Equal(baseline, time.ActiveTimers);
        time.Advance(s_period * 100);
        Assert.Equal(1, ticker.Count);
        Assert.Equal(0, node.Statistics.DeadLetters); // a tick after the end would be a dead letter
    }

    [Fact]
    public async Task ScheduleEvery_ZeroPeriod_IsRejected()
    {
        await using Node node = Node.Create();
        Address ticker = node.Spawn(() => new Ticker());

        await node.Request(ticker, new StartEvery(TimeSpan.Zero)).FailsWith(ErrorCodes.HandlerFailed, "a zero period");
    }

    [Fact]
    public async Task ScheduleAndScheduleEvery_OnRealClock_Fire()
    {
        await using Node node = Node.Create();
        var ticker = new Ticker();
        Address address = node.Spawn(() => ticker);

        await node.Request(address, new StartEvery(TimeSpan.FromMilliseconds(10))).Within("a 10 ms periodic timer");
        await Eventually.Until(() => ticker.Count >= 5, "five ticks on the real clock");
        await node.Request(address, new Cancel()).Within("cancel");

        // A tick already in flight when the timer is disposed may still land (as with any timer); the one-shot must come after.
        int after = await Ticks(node, address, "right after cancelling");
        await node.Request(address, new StartOnce(TimeSpan.FromMilliseconds(20))).Within("a one-shot timer");
        await Eventually.Until(() => ticker.Count > after, "the one-shot timer fires");
    }

    private static Task<int> Ticks(Node node, Address ticker, string phase)
        => node.Request(ticker, new GetTicks()).Within($"tick count {phase}");

    private sealed record Tick;

    private sealed record StartOnce(TimeSpan Delay) : IRequest<bool>;

    private sealed record StartEvery(TimeSpan Period) : IRequest<bool>;

    private sealed record Cancel : IRequest<bool>;

    private sealed record GetTicks : IRequest<int>;

    private sealed class Ticker : Target, ITarget<Ticker>
    {
        private readonly List<IDisposable> _timers = [];
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public TaskCompletionSource Ended { get; } = Waits.NewSignal();

        public static void Wire(Channels<Ticker> channels) => channels
            .On<Tick>(static (self, m, ctx) => Interlocked.Increment(ref self._count))
            .Request<GetTicks, int>(static (self, m, ctx) => self._count)
            .Request<StartOnce, bool>(static (self, m, ctx) =>
            {
                self._timers.Add(ctx.Schedule(m.Delay, new Tick()));
                return true;
            })
            .Request<StartEvery, bool>(static (self, m, ctx) =>
            {
                self._timers.Add(ctx.ScheduleEvery(m.Period, new Tick()));
                return true;
            })
            .Request<Cancel, bool>(static (self, m, ctx) =>
            {
                self._timers.ForEach(static t => t.Dispose());
                self._timers.Clear();
                return true;
            });

        protected internal override void OnEnded(Context context, string reason) => Ended.TrySetResult();
    }
}
