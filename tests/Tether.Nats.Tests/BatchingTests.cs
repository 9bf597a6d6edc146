using System.Diagnostics;
using NATS.Client.Core;
using Tether.Nats.Internal;

namespace Tether.Nats.Tests;

/// <summary>Per-destination batching in the broker proxy: many frames in one NATS message under load, nothing lost or reordered.</summary>
public sealed class BatchingTests
{
    // A hang guard only, never a timed claim: each wait ends as soon as its condition holds (generous: these tests share
    // 2 cores with other builds). Claims are asserted against their own bounds, named where they are checked.
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task ABurstOfSends_TravelsInBatches_AllArriveInOrder()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, _) = await cluster.AddNodeAsync("alpha");
        (Node b, BrokerProxy bProxy) = await cluster.AddNodeAsync("beta");
        Address echo = new("beta", b.Spawn(() => new Echo()).Id);
        const int count = 4_000; // 8,000 in all: below the mailbox capacity (10,000), so none is dropped

        Address[] senders = [a.Spawn(() => new Burster()), a.Spawn(() => new Burster())];
        foreach (Address sender in senders)
        {
            a.Send(sender, new Burst(echo, count));
        }

        long start = Stopwatch.GetTimestamp();
        int seen;
        while ((seen = await a.Request(echo, new GetSeen()).AsTask().WaitAsync(s_wait)) < 2 * count)
        {
            Assert.True(seen >= 0, $"{-seen} messages arrived out of order");
            Assert.True(Stopwatch.GetElapsedTime(start) < s_wait, $"only {seen} of {2 * count} messages arrived");
            await Task.Delay(20); // polling a condition with a deadline
        }

        Assert.Equal(2 * count, seen);
        Assert.True(bProxy.BatchesReceived > 0, "a burst of 8,000 sends should have travelled in batches");
        Assert.True(bProxy.BatchesReceived < count, $"{bProxy.BatchesReceived} batches for {2 * count} frames: hardly batched at all");
        Assert.Equal(0, bProxy.Statistics.BadFrames);
    }

    [Fact]
    public async Task ManyRequestsInFlight_AreAnsweredThroughBatches()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, BrokerProxy aProxy) = await cluster.AddNodeAsync("alpha");
        (Node b, BrokerProxy bProxy) = await cluster.AddNodeAsync("beta");
        Address echo = new("beta", b.Spawn(() => new Echo()).Id);

        Task<string>[] answers = Enumerable.Range(0, 5_000).Select(i => a.Request(echo, new Ask($"{i}")).AsTask()).ToArray();
        string[] all = await Task.WhenAll(answers).WaitAsync(s_wait);

        Assert.Equal(Enumerable.Range(0, 5_000).Select(i => $"echo {i} from beta"), all);
        Assert.True(bProxy.BatchesReceived > 0, "5,000 requests at once should have travelled in batches");
        Assert.True(aProxy.BatchesReceived > 0, "5,000 answers at once should have travelled in batches");
        Assert.Equal(0, aProxy.Statistics.PendingRemoteRequests);
    }

    [Fact]
    public async Task ABurstLargerThanMaxFrameBytes_IsSplitIntoSeveralBatches_NotRefused()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        var small = new BrokerOptions { MaxFrameBytes = 2048 };
        (Node a, BrokerProxy aProxy) = await cluster.AddNodeAsync("alpha", small);
        (Node b, BrokerProxy bProxy) = await cluster.AddNodeAsync("beta", small);
        Address echo = new("beta", b.Spawn(() => new Echo()).Id);
        string from = new('x', 300); // ~350-byte frames: six fill a 2 KB batch

        for (int i = 0; i < 3_000; i++)
        {
            a.Send(echo, new Numbered(from, i));
        }

        long start = Stopwatch.GetTimestamp();
        int seen;
        while ((seen = await a.Request(echo, new GetSeen()).AsTask().WaitAsync(s_wait)) < 3_000)
        {
            Assert.True(seen >= 0, $"{-seen} messages arrived out of order");
            Assert.True(Stopwatch.GetElapsedTime(start) < s_wait, $"only {seen} of 3,000 messages arrived");
            await Task.Delay(20); // polling a condition with a deadline
        }

        Assert.Equal(3_000, seen);
        Assert.Equal(0, bProxy.Statistics.BadFrames);
        Assert.True(bProxy.BatchesReceived > 1, "the burst should have been split into several batches");
        Assert.Equal(0, aProxy.Statistics.BadFrames);
    }

    [Fact]
    public async Task GarbageBatches_AreCountedAnswered_GoodFramesBeforeTheDamageAreDelivered_AndTheNodeKeepsServing()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, _) = await cluster.AddNodeAsync("alpha");
        (Node b, BrokerProxy bProxy) = await cluster.AddNodeAsync("beta");
        Address echo = new("beta", b.Spawn(() => new Echo()).Id);
        var wire = WireSerializer.For(bProxy);
        byte[] Numbered(string from, int seq) => new Frame { Kind = FrameKind.Send, SenderNode = "alpha", SenderId = 1, RecipientId = echo.Id, Contract = "test.numbered" }
            .Encode(typeof(Numbered), new Numbered(from, seq), wire);
        byte[] Truncated(string from)
        {
            byte[] whole = Frame.EncodeBatch([(0, null, Numbered(from, 0)), (0, null, Numbered(from, 1)), (0, null, Numbered(from, 2))]);
            return whole[..(whole.Length - 10)]; // the last frame is cut
        }

        byte[] truncated = Truncated("t");
        byte[] garbageItem = Frame.EncodeBatch([(0, null, Numbered("g", 0)), (0, null, [0xC1, 0xC1, 0xC1])]); // a frame that is not one
        byte[] headerOnly = truncated[..Frame.BatchHeaderBytes]; // announces 3 items, has none
        byte[] lying = [.. truncated[..Frame.BatchHeaderBytes], 0x93, 0x00, 0xC0, 0xC6, 0x7F, 0xFF, 0xFF, 0xFF, 0x01]; // a frame of 2 GB
        byte[] nested = Frame.EncodeBatch([(0, null, Frame.EncodeBatch([(0, null, Numbered("n", 0))]))]); // a batch is not a frame

        await using var raw = new NatsConnection(NatsOpts.Default with { Url = cluster.Server.Url });
        await raw.ConnectAsync();
        foreach (byte[] bytes in new[] { truncated, garbageItem, headerOnly, lying, nested })
        {
            await raw.PublishAsync("tether.default.node.beta", bytes);
        }

        // A damaged batch with a reply subject is answered with bad-request.
        NatsMsg<byte[]> reply = await raw.RequestAsync<byte[], byte[]>("tether.default.node.beta", Truncated("r"), replyOpts: new NatsSubOpts { Timeout = s_wait });
        Frame answer = Frame.DecodeHeader(reply.Data);
        Assert.Equal(FrameKind.Error, answer.Kind);
        Assert.Equal(ErrorCodes.BadRequest, answer.ErrorCode);

        long start = Stopwatch.GetTimestamp();
        while (bProxy.Statistics.BadFrames < 6)
        {
            Assert.True(Stopwatch.GetElapsedTime(start) < s_wait, $"only {bProxy.Statistics.BadFrames} bad frames counted");
            await Task.Delay(10); // polling a condition with a deadline
        }

        // Frames before the damage were delivered, in order: t0, t1, g0, r0, r1.
        int seen = await a.Request(echo, new GetSeen()).AsTask().WaitAsync(s_wait);
        Assert.Equal(5, seen > 0 ? seen : 0);
        Assert.Equal("echo still from beta", await a.Request(echo, new Ask("still")).AsTask().WaitAsync(s_wait));
    }

    [Theory]
    [InlineData(Frame.BatchVersion)]
    [InlineData(1)] // as a node of the first release sends it (every name in full)
    public async Task RequestsInABatch_WithoutReplySubjectsOfTheirOwn_AreAnsweredByCorrelation_ADamagedOneIsCountedAndAnswered(byte batchVersion)
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node b, BrokerProxy bProxy) = await cluster.AddNodeAsync("beta");
        Address echo = new("beta", b.Spawn(() => new Echo()).Id);
        var wire = WireSerializer.For(bProxy);
        byte[] Request(string contract, object payload) => new Frame { Kind = FrameKind.Request, SenderNode = "ghost", SenderId = 1, RecipientId = echo.Id, Contract = contract }
            .Encode(payload.GetType(), payload, wire);

        // A requester "ghost" that speaks the wire format by hand: its replies come to tether.default.reply.ghost.*
        await using var raw = new NatsConnection(NatsOpts.Default with { Url = cluster.Server.Url });
        await raw.ConnectAsync();
        var answers = new Dictionary<long, Frame>();
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using INatsSub<byte[]> replies = await raw.SubscribeCoreAsync<byte[]>("tether.default.reply.ghost.*");
        Task collecting = Task.Run(async () =>
        {
            await foreach (NatsMsg<byte[]> msg in replies.Msgs.ReadAllAsync())
            {
                if (Frame.IsBatch(msg.Data))
                {
                    // A frame after the first may refer to the names of the one before it (Frame.SameName).
                    var batch = new WireReader(msg.Data);
                    var names = new BatchNames();
                    int count = Frame.DecodeBatchHeader(ref batch);
                    for (int i = 0; i < count; i++)
                    {
                        Frame.DecodeBatchItem(ref batch, msg.Data, out long correlation, out _, out ReadOnlyMemory<byte> frame);
                        names.Next();
                        Frame.DecodeHeader(frame.Span, out Frame answer, names);
                        answers[correlation] = answer;
                    }
                }
                else
                {
                    answers[long.Parse(msg.Subject[(msg.Subject.LastIndexOf('.') + 1)..], System.Globalization.CultureInfo.InvariantCulture)] = Frame.DecodeHeader(msg.Data);
                }

                if (answers.Count == 3)
                {
                    all.TrySetResult();
                }
            }
        });

        // Three requests with no reply subject each (nil): two good, one of an unknown contract. The batch's own reply
        // subject names the requester; each is answered to its correlation.
        byte[] batch = Frame.EncodeBatch([(5, null, Request("test.ask", new Ask("five"))), (6, null, Request("test.nobody-knows", new Ask("x"))), (7, null, Request("test.ask", new Ask("seven")))]);
        batch[5] = batchVersion;
        await raw.PublishAsync("tether.default.node.beta", batch, replyTo: "tether.default.reply.ghost.-1");
        await all.Task.WaitAsync(s_wait);

        Assert.Equal(FrameKind.Response, answers[5].Kind);
        Assert.Equal(FrameKind.Error, answers[6].Kind);
        Assert.Equal(ErrorCodes.BadRequest, answers[6].ErrorCode);
        Assert.Contains("test.nobody-knows", answers[6].ErrorText, StringComparison.Ordinal);
        Assert.Equal(FrameKind.Response, answers[7].Kind);
        Assert.Equal(1, bProxy.Statistics.BadFrames);

        // Without a reply subject on the batch, a request item has nowhere to be answered: rejected and counted.
        await raw.PublishAsync("tether.default.node.beta", Frame.EncodeBatch([(8, null, Request("test.ask", new Ask("eight")))]));
        long start = Stopwatch.GetTimestamp();
        while (bProxy.Statistics.BadFrames < 2)
        {
            Assert.True(Stopwatch.GetElapsedTime(start) < s_wait, "a request with no way to answer it was not counted as a bad frame");
            await Task.Delay(10); // polling a condition with a deadline
        }

        Assert.False(answers.ContainsKey(8));
        await replies.UnsubscribeAsync();
        await collecting.WaitAsync(s_wait);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task SendsThenAnEndInOneBatch_TheSendsAreHandledBeforeTheTargetEnds(int round)
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node b, BrokerProxy bProxy) = await cluster.AddNodeAsync("beta");
        var tally = new Tally();
        Address target = new("beta", b.Spawn(() => new Tallying(tally)).Id);
        int targets = b.Statistics.Targets;
        var wire = WireSerializer.For(bProxy);
        byte[] Send(int seq) => new Frame { Kind = FrameKind.Send, SenderNode = "alpha", SenderId = 1, RecipientId = target.Id, Contract = "test.numbered" }
            .Encode(typeof(Numbered), new Numbered("alpha", seq), wire);

        // The end is asked by the target itself (from another node only its owner, or itself, may end it). The sends
        // wait to be posted together when the end comes: it must not overtake them.
        byte[] end = new Frame { Kind = FrameKind.End, SenderNode = "beta", SenderId = target.Id, RecipientId = target.Id, ErrorText = "the test ends it" }.Encode(null, null);
        await using var raw = new NatsConnection(NatsOpts.Default with { Url = cluster.Server.Url });
        await raw.ConnectAsync();
        await raw.PublishAsync("tether.default.node.beta", Frame.EncodeBatch([.. Enumerable.Range(1, 20).Select(i => (0L, (string?)null, Send(i))), (0L, null, end)]));

        await Eventually.Until(() => b.Statistics.Targets == targets - 1, $"round {round}: the target ends", s_wait);
        Assert.Equal(20, tally.Count);
        Assert.Equal(0, bProxy.Statistics.BadFrames);
    }

    private sealed class Tally
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void Add() => Interlocked.Increment(ref _count);
    }

    private sealed class Tallying(Tally tally) : Target, ITarget<Tallying>
    {
        public static void Wire(Channels<Tallying> channels) => channels.On<Numbered>(static (self, _, _) => self.Add());

        private void Add() => tally.Add();
    }

    private sealed record Burst(Address To, int Count);

    private sealed class Burster : Target, ITarget<Burster>
    {
        public static void Wire(Channels<Burster> channels) => channels.On<Burst>(static (_, m, ctx) =>
        {
            string from = ctx.Self.ToString();
            for (int i = 0; i < m.Count; i++)
            {
                ctx.Send(m.To, new Numbered(from, i));
            }
        });
    }
}
