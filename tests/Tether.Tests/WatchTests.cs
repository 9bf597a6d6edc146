using System.Collections.Concurrent;
using Tether.Tests.TestSupport;

namespace Tether.Tests;

public sealed class WatchTests
{
    [Fact]
    public async Task Watch_TargetEnds_WatcherGetsTargetEndedWithTheReasonOnce()
    {
        await using Node node = Node.Create();
        Address watched = node.Spawn(() => new Idle());
        var watcher = new Watcher();
        Address w = node.Spawn(() => watcher);

        await node.Request(w, new WatchIt(watched)).Within("watch set up");
        await node.Request(w, new WatchIt(watched)).Within("watched twice"); // still reported once
        node.End(watched);

        TargetEnded ended = await watcher.First.Task.Within("the end is reported");
        Assert.Equal(watched, ended.Instance);
        Assert.Equal("ended by the node", ended.Reason);
        Assert.Equal(1, await node.Request(w, new CountEnds()).Within("count"));
    }

    [Fact]
    public async Task Watch_TargetAlreadyEnded_ReportedAtOnce()
    {
        await using Node node = Node.Create();
        Address watched = node.Spawn(() => new Idle());
        await node.EndAsync(watched).Within("the target ends");
        var watcher = new Watcher();
        Address w = node.Spawn(() => watcher);

        await node.Request(w, new WatchIt(watched)).Within("watch set up");

        TargetEnded ended = await watcher.First.Task.Within("an ended target is reported at once");
        Assert.Equal(watched, ended.Instance);
    }

    [Fact]
    public async Task Watch_NoSuchTarget_ReportedAtOnce()
    {
        await using Node node = Node.Create();
        var watcher = new Watcher();
        Address w = node.Spawn(() => watcher);
        var nobody = new Address(node.Name, 9_999);

        await node.Request(w, new WatchIt(nobody)).Within("watch set up");

        TargetEnded ended = await watcher.First.Task.Within("an unknown address is reported at once");
        Assert.Equal("no such target", ended.Reason);
    }

    [Fact]
    public async Task Unwatch_EndIsNotDelivered()
    {
        await using Node node = Node.Create();
        Address watched = node.Spawn(() => new Idle());
        Address other = node.Spawn(() => new Idle());
        var watcher = new Watcher();
        Address w = node.Spawn(() => watcher);

        await node.Request(w, new WatchIt(watched)).Within("watch");
        await node.Request(w, new WatchIt(other)).Within("watch the other");
        await node.Request(w, new UnwatchIt(watched)).Within("unwatch");
        await node.EndAsync(watched).Within("the unwatched target ends");
        await node.EndAsync(other).Within("the watched one ends");

        TargetEnded ended = await watcher.First.Task.Within("the still-watched end arrives");
        Assert.Equal(other, ended.Instance); // the unwatched end, which came first, was not delivered
        Assert.Equal(1, await node.Request(w, new CountEnds()).Within("count"));
    }

    [Fact]
    public async Task Watch_WithoutATargetEndedChannel_FailsNamingTheFix()
    {
        await using Node node = Node.Create();
        Address watched = node.Spawn(() => new Idle());
        Address blind = node.Spawn(() => new BlindWatcher());

        TetherException error = await node.Request(blind, new WatchIt(watched)).FailsWith(ErrorCodes.HandlerFailed, "no TargetEnded channel");

        Assert.Contains("TargetEnded", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EndAsync_CompletesAfterOnEndedRan_AndAtOnceForAnUnknownAddress()
    {
        await using Node node = Node.Create();
        var idle = new Idle();
        Address target = node.Spawn(() => idle);

        await node.EndAsync(target).Within("the target ends");

        Assert.True(idle.OnEndedRan);
        Assert.True(node.EndAsync(target).IsCompletedSuccessfully);
        Assert.True(node.EndAsync(new Address(node.Name, 12_345)).IsCompletedSuccessfully);
    }

    private sealed record WatchIt(Address Target) : IRequest<bool>;

    private sealed record UnwatchIt(Address Target) : IRequest<bool>;

    private sealed record CountEnds : IRequest<int>;

    private sealed class Idle : Target, ITarget<Idle>
    {
        public bool OnEndedRan { get; private set; }

        public static void Wire(Channels<Idle> channels) => channels.On<CountEnds>(static (_, _, _) => { });

        protected internal override void OnEnded(Context context, string reason) => OnEndedRan = true;
    }

    private sealed class Watcher : Target, ITarget<Watcher>
    {
        private readonly ConcurrentQueue<TargetEnded> _ends = new();

        public TaskCompletionSource<TargetEnded> First { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

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
            .Request<CountEnds, int>(static (self, _, _) => self._ends.Count)
            .On<TargetEnded>(static (self, m, _) =>
            {
                self._ends.Enqueue(m);
                self.First.TrySetResult(m);
            });
    }

    private sealed class BlindWatcher : Target, ITarget<BlindWatcher>
    {
        public static void Wire(Channels<BlindWatcher> channels) => channels
            .Request<WatchIt, bool>(static (_, m, ctx) =>
            {
                ctx.Watch(m.Target);
                return true;
            });
    }
}
