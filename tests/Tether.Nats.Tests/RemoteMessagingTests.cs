using System.Collections.Concurrent;
using System.Diagnostics;
using NATS.Client.Core;

namespace Tether.Nats.Tests;

public sealed class RemoteMessagingTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(15);

    private sealed class Delegator : Target, ITarget<Delegator>
    {
        public static void Wire(Channels<Delegator> channels)
            => channels.Deferred<Delegate, string>(static (_, m, token, ctx) => ctx.Send(m.To, new Forward(token, m.Text)));
    }

    private sealed class Answerer(TaskCompletionSource<bool> second) : Target, ITarget<Answerer>
    {
        public static void Wire(Channels<Answerer> channels) => channels.On<Forward>(static (self, m, ctx) =>
        {
            m.Token.Reply($"answered {m.Text} on {ctx.Self.Node}");
            self.Second(m.Token.TryReply("again"));
        });

        private void Second(bool accepted) => second.TrySetResult(accepted);
    }

    private sealed class Collector(ConcurrentQueue<int> seen) : Target, ITarget<Collector>
    {
        public static void Wire(Channels<Collector> channels) => channels.On<Pong>(static (self, m, _) => self.Add(m.Seq));

        private void Add(int seq) => seen.Enqueue(seq);
    }

    [Fact]
    public async Task Request_ToTargetOnAnotherNode_GetsItsAnswer()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, _) = await cluster.AddNodeAsync("alpha");
        (Node b, _) = await cluster.AddNodeAsync("beta");
        Address echo = b.Spawn(() => new Echo());

        string answer = await a.Request(new Address("beta", echo.Id), new Ask("hi")).AsTask().WaitAsync(s_wait);

        Assert.Equal("echo hi from beta", answer);
    }

    [Fact]
    public async Task Send_AddressInsideMessage_LetsTheRemoteTargetReplyAcrossNodes()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, _) = await cluster.AddNodeAsync("alpha");
        (Node b, _) = await cluster.AddNodeAsync("beta");
        Address echo = b.Spawn(() => new Echo());
        var seen = new ConcurrentQueue<int>();
        Address collector = a.Spawn(() => new Collector(seen));

        for (int i = 0; i < 500; i++)
        {
            a.Send(new Address("beta", echo.Id), new Ping(i, collector));
        }

        long start = Stopwatch.GetTimestamp();
        while (seen.Count < 500)
        {
            Assert.True(Stopwatch.GetElapsedTime(start) < s_wait, $"only {seen.Count} of 500 pongs came back");
            await Task.Delay(10); // polling a condition with a deadline
        }

        Assert.Equal(Enumerable.Range(0, 500), seen);
    }

    [Fact]
    public async Task ReplyToken_ForwardedToAThirdNode_IsAnsweredThereExactlyOnce()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, _) = await cluster.AddNodeAsync("alpha");
        (Node b, _) = await cluster.AddNodeAsync("beta");
        (Node c, _) = await cluster.AddNodeAsync("gamma");
        var second = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        Address answerer = new("gamma", c.Spawn(() => new Answerer(second)).Id);
        Address delegator = new("beta", b.Spawn(() => new Delegator()).Id);

        string answer = await a.Request(delegator, new Delegate(answerer, "q")).AsTask().WaitAsync(s_wait);

        Assert.Equal("answered q on gamma", answer);
        Assert.False(await second.Task.WaitAsync(s_wait), "a second answer through the same token must be refused to the code that tried it");
    }

    [Fact]
    public async Task Send_ManySendersAcrossNodes_KeepsOrderPerSenderReceiverPair()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, _) = await cluster.AddNodeAsync("alpha");
        (Node b, _) = await cluster.AddNodeAsync("beta");
        Address echo = new("beta", b.Spawn(() => new Echo()).Id);

        Task[] senders = Enumerable.Range(0, 4).Select(s => Task.Run(() =>
        {
            for (int i = 0; i < 2000; i++)
            {
                a.Send(echo, new Numbered($"sender{s}", i));
            }
        })).ToArray();
        await Task.WhenAll(senders);

        long start = Stopwatch.GetTimestamp();
        int seen;
        while ((seen = await a.Request(echo, new GetSeen())) != 8000)
        {
            Assert.True(seen >= 0, $"{-seen} messages arrived out of order");
            Assert.True(Stopwatch.GetElapsedTime(start) < s_wait, $"only {seen} of 8000 numbered messages arrived");
            await Task.Delay(10); // polling a condition with a deadline
        }
    }

    [Fact]
    public async Task Request_RemoteHandlerThrowsCodedError_CallerGetsThatCode()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, _) = await cluster.AddNodeAsync("alpha");
        (Node b, _) = await cluster.AddNodeAsync("beta");
        Address echo = new("beta", b.Spawn(() => new Echo()).Id);

        TetherException error = await Assert.ThrowsAsync<TetherException>(() => a.Request(echo, new Fail("out-of-stock")).AsTask().WaitAsync(s_wait));
        Assert.Equal("out-of-stock", error.Code);
        Assert.Equal("failing on purpose", error.Message);

        TetherException missing = await Assert.ThrowsAsync<TetherException>(() => a.Request(new Address("beta", 999_999), new Ask("x")).AsTask().WaitAsync(s_wait));
        Assert.Equal(ErrorCodes.NoSuchTarget, missing.Code);
    }

    [Fact]
    public async Task Request_UnregisteredContract_FailsAtTheCallerWithTheTypeNamed()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, _) = await cluster.AddNodeAsync("alpha");
        TetherException error = await Assert.ThrowsAsync<TetherException>(() => a.Request(new Address("beta", 1), new Unregistered(1)).AsTask().WaitAsync(s_wait));
        Assert.Equal(ErrorCodes.BadRequest, error.Code);
        Assert.Contains("Unregistered is not a registered contract", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_ToNodeNobodyHosts_FailsFastWithNodeUnreachable()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, _) = await cluster.AddNodeAsync("alpha");
        long start = Stopwatch.GetTimestamp();
        TetherException error = await Assert.ThrowsAsync<TetherException>(
            () => a.Request(new Address("ghost", 1), new Ask("anyone?"), TimeSpan.FromSeconds(20)).AsTask().WaitAsync(s_wait));
        Assert.Equal(ErrorCodes.NodeUnreachable, error.Code);
        Assert.True(Stopwatch.GetElapsedTime(start) < TimeSpan.FromSeconds(5), "no-responders must fail the request long before its 20 s deadline");
    }

    [Fact]
    public async Task Garbage_OnANodeSubject_IsCountedAnsweredAndTheNodeKeepsServing()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, _) = await cluster.AddNodeAsync("alpha");
        (Node b, BrokerProxy bProxy) = await cluster.AddNodeAsync("beta", new BrokerOptions { MaxFrameBytes = 64 * 1024 });
        Address echo = new("beta", b.Spawn(() => new Echo()).Id);

        await using var raw = new NatsConnection(NatsOpts.Default with { Url = cluster.Server.Url });
        await raw.ConnectAsync();
        byte[] valid = new Tether.Nats.Internal.Frame { Kind = Tether.Nats.Internal.FrameKind.Send, SenderNode = "alpha", SenderId = 1, RecipientId = echo.Id, Contract = "test.ask" }
            .Encode(typeof(Ask), new Ask("x"), Tether.Nats.Internal.WireSerializer.For(bProxy));
        byte[][] garbage =
        [
            [0xFF, 0x00, 0x13],
            valid[..(valid.Length / 2)],
            new Tether.Nats.Internal.Frame { Kind = Tether.Nats.Internal.FrameKind.Send, SenderNode = "alpha", RecipientId = echo.Id, Contract = "System.Diagnostics.Process" }.Encode(null, null),
            "not messagepack at all"u8.ToArray(),
            new Tether.Nats.Internal.Frame { Kind = Tether.Nats.Internal.FrameKind.End, RecipientId = echo.Id }.Encode(null, null), // an end from nobody
            new byte[200 * 1024],
        ];
        foreach (byte[] bytes in garbage)
        {
            await raw.PublishAsync("tether.default.node.beta", bytes);
        }

        NatsMsg<byte[]> reply = await raw.RequestAsync<byte[], byte[]>("tether.default.node.beta", [0xC1], replyOpts: new NatsSubOpts { Timeout = s_wait });
        Tether.Nats.Internal.Frame answer = Tether.Nats.Internal.Frame.DecodeHeader(reply.Data);
        Assert.Equal(Tether.Nats.Internal.FrameKind.Error, answer.Kind);
        Assert.Equal(ErrorCodes.BadRequest, answer.ErrorCode);

        long start = Stopwatch.GetTimestamp();
        while (bProxy.Statistics.BadFrames < 6)
        {
            Assert.True(Stopwatch.GetElapsedTime(start) < s_wait, $"only {bProxy.Statistics.BadFrames} bad frames counted");
            await Task.Delay(10); // polling a condition with a deadline
        }

        Assert.Equal("echo still from beta", await a.Request(echo, new Ask("still")).AsTask().WaitAsync(s_wait));
    }
}
