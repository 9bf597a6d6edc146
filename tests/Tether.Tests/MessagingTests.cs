using System.Diagnostics;
using Tether.Tests.TestSupport;

namespace Tether.Tests;

public sealed class MessagingTests
{
    [Fact]
    public async Task Send_FromOutside_HandlerRunsWithSenderNone()
    {
        await using Node node = Node.Create();
        var recorder = new Recorder();
        Address target = node.Spawn(() => recorder);

        node.Send(target, new Payload([1, 2, 3]));

        Received received = await recorder.Received.Task.Within("the send reaches its handler");
        Assert.True(received.Sender.IsNone);
        Assert.Equal(target, received.Self);
    }

    [Fact]
    public async Task Send_BetweenTargets_PassesTheSameInstanceAndNamesTheSender()
    {
        await using Node node = Node.Create();
        var recorder = new Recorder();
        Address target = node.Spawn(() => recorder);
        Address relay = node.Spawn(() => new Relay());
        var payload = new Payload([1, 2, 3]);

        node.Send(relay, new Forward(target, payload));

        Received received = await recorder.Received.Task.Within("the relayed send reaches its handler");
        Assert.Same(payload, received.Payload); // in-process messages pass by reference, never copied
        Assert.Equal(relay, received.Sender);
    }

    [Fact]
    public async Task Request_Answered_CompletesWithTheResponse()
    {
        await using Node node = Node.Create();
        Address probe = node.Spawn(() => new Probe());

        int answer = await node.Request(probe, new Ping(41)).Within("the ping is answered");

        Assert.Equal(41, answer);
        Assert.Equal(0, node.Statistics.PendingRequests);
    }

    [Fact]
    public async Task Request_UnknownIdOnThisNode_FailsNoSuchTargetAtOnce()
    {
        await using Node node = Node.Create();
        node.Spawn(() => new Probe());

        ValueTask<int> request = node.Request(new Address(node.Name, 9_999), new Ping(1));

        Assert.True(request.IsCompleted, "an unknown address is known at once; the request must not wait for its deadline");
        await request.FailsWith(ErrorCodes.NoSuchTarget, "request to an unknown id");
        Assert.Equal(0, node.Statistics.PendingRequests);
    }

    [Fact]
    public async Task Request_AddressOnAnotherNode_FailsNoSuchTarget()
    {
        await using Node node = Node.Create();

        TetherException error = await node.Request(new Address("elsewhere", 1), new Ping(1)).FailsWith(ErrorCodes.NoSuchTarget, "request to another node");

        Assert.Contains("elsewhere", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_AddressNone_FailsNoSuchTarget()
    {
        await using Node node = Node.Create();

        await node.Request(Address.None, new Ping(1)).FailsWith(ErrorCodes.NoSuchTarget, "request to Address.None");
    }

    [Fact]
    public async Task Request_EndedTarget_FailsNoSuchTargetByLiveAndParsedAddress()
    {
        await using Node node = Node.Create();
        var probe = new Probe();
        Address address = node.Spawn(() => probe);
        Assert.Equal(1, await node.Request(address, new Ping(1)).Within("the target answers while alive"));

        node.End(address);
        await probe.Ended.Task.Within("the target ends");

        await node.Request(address, new Ping(2)).FailsWith(ErrorCodes.NoSuchTarget, "request by the live address after the end");
        await node.Request(Address.Parse(address.ToString()), new Ping(3)).FailsWith(ErrorCodes.NoSuchTarget, "request by the parsed address after the end");
        Assert.Equal(0, node.Statistics.Targets);
    }

    [Fact]
    public async Task Send_EndedTarget_CountsDeadLetter()
    {
        await using Node node = Node.Create();
        var probe = new Probe();
        Address address = node.Spawn(() => probe);
        node.End(address);
        await probe.Ended.Task.Within("the target ends");

        node.Send(address, new Note(1));
        node.Send(new Address(node.Name, 12_345), new Note(2));

        Assert.Equal(2, node.Statistics.DeadLetters);
    }

    [Fact]
    public async Task Request_TypeWithNoInputChannel_FailsNoHandler()
    {
        await using Node node = Node.Create();
        Address target = node.Spawn(() => new Recorder());

        TetherException error = await node.Request(target, new Ping(1)).FailsWith(ErrorCodes.NoHandler, "request of an unwired type");

        Assert.Contains(nameof(Ping), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_TypeWiredAsSendOnly_FailsNoHandler()
    {
        await using Node node = Node.Create();
        Address target = node.Spawn(() => new Recorder());

        await node.Request(target, new SendOnly()).FailsWith(ErrorCodes.NoHandler, "request to a send-only channel");
    }

    [Fact]
    public async Task Send_TypeWithNoInputChannel_CountsDeadLetterAndTargetGoesOn()
    {
        await using Node node = Node.Create();
        Address target = node.Spawn(() => new Probe());

        node.Send(target, "a string nobody wired");
        int answer = await node.Request(target, new Ping(7)).Within("the target still answers after the unwired send");

        Assert.Equal(7, answer);
        Assert.Equal(1, node.Statistics.DeadLetters);
    }

    [Fact]
    public async Task Request_NobodyAnswers_FailsTimeoutAtTheDefaultDeadline()
    {
        var time = new ManualTimeProvider();
        await using Node node = Node.Create(new NodeOptions { TimeProvider = time, DefaultRequestTimeout = TimeSpan.FromSeconds(1) });
        Address probe = node.Spawn(() => new Probe());

        ValueTask<int> request = node.Request(probe, new Never());
        await node.Request(probe, new Ping(0)).Within("a ping queued after the unanswered request");

        time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(request.IsCompleted, "the request ended before its default deadline");

        time.Advance(TimeSpan.FromMilliseconds(21)); // the next deadline sweep after 1 s
        Assert.True(request.IsCompleted, "the request did not end at its default deadline");
        await request.FailsWith(ErrorCodes.Timeout, "the request at its default deadline");
        Assert.Equal(0, node.Statistics.PendingRequests);
    }

    [Fact]
    public async Task Request_PerCallTimeout_OverridesTheDefault()
    {
        var time = new ManualTimeProvider();
        await using Node node = Node.Create(new NodeOptions { TimeProvider = time, DefaultRequestTimeout = TimeSpan.FromSeconds(30) });
        Address probe = node.Spawn(() => new Probe());

        ValueTask<int> shortOne = node.Request(probe, new Never(), TimeSpan.FromMilliseconds(100));
        ValueTask<int> defaultOne = node.Request(probe, new Never());
        await node.Request(probe, new Ping(0)).Within("a ping queued after the unanswered requests");

        time.Advance(TimeSpan.FromMilliseconds(120));

        Assert.True(shortOne.IsCompleted, "the per-call timeout was not honoured");
        Assert.False(defaultOne.IsCompleted, "the request with the default deadline ended early");
        await shortOne.FailsWith(ErrorCodes.Timeout, "the request with a 100 ms timeout");

        time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(defaultOne.IsCompleted, "the request with the default deadline did not end at it");
        await defaultOne.FailsWith(ErrorCodes.Timeout, "the request with the default deadline");
    }

    [Fact]
    public async Task Request_PerCallTimeoutOnRealClock_FailsTimeoutSoon()
    {
        await using Node node = Node.Create(new NodeOptions { DefaultRequestTimeout = TimeSpan.FromMinutes(5) });
        Address probe = node.Spawn(() => new Probe());
        long start = Stopwatch.GetTimestamp();

        await node.Request(probe, new Never(), TimeSpan.FromMilliseconds(100)).FailsWith(ErrorCodes.Timeout, "the 100 ms request times out");

        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
        Assert.True(elapsed >= TimeSpan.FromMilliseconds(95), $"the request timed out after {elapsed.TotalMilliseconds} ms, before its deadline");
    }

    [Fact]
    public void NodeCreate_InfiniteOrZeroDefaultTimeout_IsRejected()
    {
        Assert.Throws<ArgumentException>(() => Node.Create(new NodeOptions { DefaultRequestTimeout = Timeout.InfiniteTimeSpan }));
        Assert.Throws<ArgumentException>(() => Node.Create(new NodeOptions { DefaultRequestTimeout = TimeSpan.Zero }));
    }

    [Fact]
    public async Task Request_InfiniteOrZeroTimeout_IsRejected()
    {
        await using Node node = Node.Create();
        Address probe = node.Spawn(() => new Probe());

        Assert.Throws<ArgumentOutOfRangeException>(() => node.Request(probe, new Ping(1), Timeout.InfiniteTimeSpan));
        Assert.Throws<ArgumentOutOfRangeException>(() => node.Request(probe, new Ping(1), TimeSpan.Zero));
        Assert.Equal(0, node.Statistics.PendingRequests);
    }

    [Fact]
    public async Task Request_QueuedBehindTheTargetsEnd_FailsTargetEnded()
    {
        await using Node node = Node.Create();
        var probe = new Probe();
        Address address = node.Spawn(() => probe);
        using var gate = new ManualResetEventSlim();
        TaskCompletionSource entered = Waits.NewSignal();
        node.Send(address, new Block(gate, entered));
        await entered.Task.Within("the target blocks in its handler");

        node.End(address);                                   // queued first
        Task<int> request = node.Request(address, new Ping(1)).AsTask(); // queued behind the end
        gate.Set();

        Assert.Equal("ended by the node", await probe.Ended.Task.Within("the target ends"));
        TetherException error = await Assert.ThrowsAsync<TetherException>(() => request.Within("the queued request ends"));
        Assert.Equal(ErrorCodes.TargetEnded, error.Code);
    }

    [Fact]
    public async Task Request_TargetEndsWhileHandlerAwaits_FailsTargetEnded()
    {
        await using Node node = Node.Create();
        var slow = new Slow();
        Address address = node.Spawn(() => slow);

        Task<int> request = node.Request(address, new SlowAnswer()).AsTask();
        await slow.Awaiting.Task.Within("the handler awaits");
        node.End(address);

        TetherException error = await Assert.ThrowsAsync<TetherException>(() => request.Within("the in-flight request ends"));
        Assert.Equal(ErrorCodes.TargetEnded, error.Code);
        slow.Release.TrySetResult(5); // a late completion changes nothing
        Assert.Equal(0, node.Statistics.PendingRequests);
    }

    [Fact]
    public async Task StopAsync_PendingRequest_FailsNodeStoppingAndSpawnIsRefused()
    {
        Node node = Node.Create();
        await using (node)
        {
            Address probe = node.Spawn(() => new Probe());
            Task<int> request = node.Request(probe, new Never()).AsTask();
            await node.Request(probe, new Ping(0)).Within("a ping queued after the unanswered request");

            await node.StopAsync().Within("the node stops");

            TetherException error = await Assert.ThrowsAsync<TetherException>(() => request.Within("the pending request ends"));
            Assert.Equal(ErrorCodes.NodeStopping, error.Code);
            Assert.Equal(ErrorCodes.NodeStopping, Assert.Throws<TetherException>(() => node.Spawn(() => new Probe())).Code);
            Assert.Equal(0, node.Statistics.Targets);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Request_ManyConcurrentOfEveryOutcome_EachEndsExactlyOnce(int round)
    {
        await using Node node = Node.Create(new NodeOptions { DeadlineSweepInterval = TimeSpan.FromMilliseconds(5) });
        Address address = node.Spawn(() => new Probe());
        var requests = new List<(int Kind, Task<int> Task)>();

        for (int i = 0; i < 2_000; i++)
        {
            int kind = (i + round) % 4;
            ValueTask<int> request = kind switch
            {
                0 => node.Request(address, new Ping(i)),
                1 => node.Request(address, new Never(), TimeSpan.FromMilliseconds(20)),
                2 => node.Request(address, new SendOnly()),
                _ => node.Request(new Address(node.Name, 1_000_000 + i), new Ping(i)),
            };
            requests.Add((kind, request.AsTask()));
        }

        await Task.WhenAll(requests.Select(r => r.Task.ContinueWith(static _ => { }, TaskScheduler.Default)))
            .Within("every one of 2,000 requests ends");

        foreach ((int kind, Task<int> task) in requests)
        {
            string? code = (task.Exception?.InnerException as TetherException)?.Code;
            string expected = kind switch
            {
                0 => "ok",
                1 => ErrorCodes.Timeout,
                2 => ErrorCodes.NoHandler,
                _ => ErrorCodes.NoSuchTarget,
            };
            Assert.Equal(expected, task.IsCompletedSuccessfully ? "ok" : code);
        }

        Assert.Equal(0, node.Statistics.PendingRequests);
    }

    private sealed record Payload(int[] Values);

    private sealed record Forward(Address To, Payload Payload);

    private sealed record Received(Address Self, Address Sender, Payload Payload);

    private sealed record SendOnly : IRequest<int>;

    private sealed record SlowAnswer : IRequest<int>;

    private sealed class Recorder : Target, ITarget<Recorder>
    {
        public TaskCompletionSource<Received> Received { get; } = Waits.NewSignal<Received>();

        public static void Wire(Channels<Recorder> channels) => channels
            .On<Payload>(static (self, m, ctx) => self.Received.TrySetResult(new Received(ctx.Self, ctx.Sender, m)))
            .On<SendOnly>(static (self, m, ctx) => { });
    }

    private sealed class Relay : Target, ITarget<Relay>
    {
        public static void Wire(Channels<Relay> channels) => channels
            .On<Forward>(static (self, m, ctx) => ctx.Send(m.To, m.Payload));
    }

    private sealed class Slow : Target, ITarget<Slow>
    {
        public TaskCompletionSource Awaiting { get; } = Waits.NewSignal();

        public TaskCompletionSource<int> Release { get; } = Waits.NewSignal<int>();

        public static void Wire(Channels<Slow> channels) => channels
            .RequestAsync<SlowAnswer, int>(static async (self, m, ctx) =>
            {
                self.Awaiting.TrySetResult();
                return await self.Release.Task;
            });
    }
}
