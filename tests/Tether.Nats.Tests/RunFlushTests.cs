using System.Collections.Concurrent;
using MessagePack;
using Tether.Nats.Internal;
using Tether.Transport;

namespace Tether.Nats.Tests;

/// <summary>
/// Frames sent during a run (a target's batch of messages, a batch of answers) leave together when the run ends; frames
/// of a run that does not end soon (a handler that blocks) are published by the flush guard instead of waiting for it.
/// </summary>
public sealed class RunFlushTests
{
    // A hang guard only, never a timed claim: each wait ends as soon as its condition holds (generous: these tests share
    // 2 cores with other builds). Claims are asserted against their own bounds, named where they are checked.
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(20);

    [Fact]
    public void OutsideARun_ALoneFrameIsPublishedAtOnce_OnTheCallersThread()
    {
        using var guard = new FlushGuard();
        var published = new ConcurrentQueue<(int Thread, int Items)>();
        Outbox outbox = NewOutbox(published, guard);

        Append(outbox, 1);

        Assert.Equal([(Environment.CurrentManagedThreadId, 1)], published);
    }

    [Fact]
    public void InsideARun_FramesWaitForItsEnd_AndLeaveAsOneBatch_OnTheRunsThread()
    {
        using var guard = new FlushGuard(TimeSpan.FromMinutes(1)); // a guard that does not step in during this test
        var published = new ConcurrentQueue<(int Thread, int Items)>();
        Outbox outbox = NewOutbox(published, guard);

        RunScope? run = RunScope.Open();
        Assert.NotNull(run);
        try
        {
            for (int i = 0; i < 20; i++)
            {
                Append(outbox, i);
            }

            Assert.Empty(published);
        }
        finally
        {
            RunScope.Close(run);
        }

        Assert.Equal([(Environment.CurrentManagedThreadId, 20)], published);
    }

    [Fact]
    public async Task ARunThatDoesNotEnd_HasItsFramesPublishedByTheGuard()
    {
        using var guard = new FlushGuard(TimeSpan.FromMilliseconds(5));
        var published = new ConcurrentQueue<(int Thread, int Items)>();
        Outbox outbox = NewOutbox(published, guard);
        using var sent = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();

        // A run on a thread of its own that sends three frames and then blocks (a handler waiting synchronously).
        var blocked = new Thread(() =>
        {
            RunScope? run = RunScope.Open();
            try
            {
                Append(outbox, 1);
                Append(outbox, 2);
                Append(outbox, 3);
                sent.Set();
                release.Wait(s_wait);
            }
            finally
            {
                RunScope.Close(run);
            }
        });
        blocked.IsBackground = true;
        blocked.Start();
        try
        {
            Assert.True(sent.Wait(s_wait), "the run did not start");
            await Eventually.Until(() => published.Sum(p => p.Items) == 3, "the guard publishes the blocked run's frames", s_wait);
            Assert.DoesNotContain(published, p => p.Thread == blocked.ManagedThreadId);
        }
        finally
        {
            release.Set();
        }

        blocked.Join();
        Assert.Equal(3, published.Sum(p => p.Items)); // the run's end found nothing left to publish
    }

    [Fact]
    public async Task AHandlerThatBlocksAfterSending_StillHasItsFrameDelivered()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, _) = await cluster.AddNodeAsync("alpha");
        (Node b, _) = await cluster.AddNodeAsync("beta");
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Address remote = new("beta", b.Spawn(() => new Signal(arrived)).Id);
        Address blocker = a.Spawn(static () => new Blocker());

        // The handler sends to the remote target and then blocks its thread until that target has the message: its run
        // cannot end first, so only the flush guard can get the frame out.
        bool sawIt = await a.Request(blocker, new SendAndWait(remote, arrived.Task)).AsTask().WaitAsync(s_wait);

        Assert.True(sawIt, "the frame sent before blocking never arrived while the handler waited");
    }

    [Fact]
    public async Task ACallerThatBlocksInTheContinuationOfAnAnswer_StillGetsItsNextAnswer()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, _) = await cluster.AddNodeAsync("alpha");
        (Node b, _) = await cluster.AddNodeAsync("beta");
        Address echo = new("beta", b.Spawn(static () => new Echo()).Id);
        Address pair = new("beta", b.Spawn(static () => new Pair()).Id);

        // Blocking the continuation of an answer (one of two in the same NATS message, so completed in a run of answers)
        // on a second request must not hold that request back until the run ends (it would not end before the deadline).
        string? answer = await BlockInContinuationOfAnAnswerAsync(a, pair, () => a.Request(echo, new Ask("two")).AsTask());

        Assert.Equal("echo two from beta", answer);
    }

    [Fact]
    public async Task AContinuationThatBlocksOnTheNextAnswerOfItsBatch_DoesNotHoldItBack()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, _) = await cluster.AddNodeAsync("alpha");
        (Node b, _) = await cluster.AddNodeAsync("beta");
        Address pair = new("beta", b.Spawn(static () => new Pair()).Id);

        // Two answers in one NATS message (the pair answers both in one handler), completed in one run on alpha: the first
        // one's continuation blocks until the second is there. Without the guard's takeover it waits for ever (here: 20 s).
        bool inRun = false;
        for (int attempt = 1; attempt <= 10 && !inRun; attempt++)
        {
            Task<string> first = a.Request(pair, new Ask($"first {attempt}")).AsTask();
            Task<string> second = a.Request(pair, new Ask($"second {attempt}")).AsTask();
            Task<string> blocked = first.ContinueWith(
                _ =>
                {
                    inRun = RunScope.IsOpen;
                    return second.Wait(s_wait) ? second.Result : "stuck";
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);

            Assert.Equal($"paired second {attempt}", await blocked.WaitAsync(2 * s_wait));
            Assert.Equal($"paired first {attempt}", await first);
        }

        Assert.True(inRun, "in 10 attempts the first answer's continuation never ran inside the run of answers, so this test proved nothing");
    }

    [Fact]
    public async Task ACallerThatBlocksInTheContinuationOfAnAnswer_OnALocalRequest_StillGetsItsAnswer()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, _) = await cluster.AddNodeAsync("alpha");
        (Node b, _) = await cluster.AddNodeAsync("beta");
        Address pair = new("beta", b.Spawn(static () => new Pair()).Id);
        Address local = a.Spawn(static () => new Echo());

        // The same with a request to a local target: the run of answers must not hold that target's wake-up.
        string? answer = await BlockInContinuationOfAnAnswerAsync(a, pair, () => a.Request(local, new Ask("two")).AsTask());

        Assert.Equal("echo two from alpha", answer);
    }

    /// <summary>
    /// Asks <paramref name="pair"/> twice (it answers both at once, in one NATS message) and, in the continuation of the
    /// first answer, waits synchronously for <paramref name="next"/>; returns what it got (null: nothing within 20 s).
    /// Repeats until that continuation did run inside the run of answers (it does not when the answer came before the
    /// await looked): otherwise the test would prove nothing.
    /// </summary>
    private static async Task<string?> BlockInContinuationOfAnAnswerAsync(Node from, Address pair, Func<Task<string>> next)
    {
        for (int attempt = 1; attempt <= 10; attempt++)
        {
            (bool inRun, string? answer) = await Task.Run(async () =>
            {
                Task<string> second = from.Request(pair, new Ask("second")).AsTask();
                await from.Request(pair, new Ask("first")).ConfigureAwait(false);
                bool inRun = RunScope.IsOpen;
                Task<string> waited = next();
                string? answer = waited.Wait(s_wait) ? waited.Result : null;
                await second;
                return (inRun, answer);
            });

            if (inRun || answer is null)
            {
                return answer;
            }
        }

        Assert.Fail("in 10 attempts the continuation never ran inside the run of answers, so this test proved nothing");
        return null;
    }

    [Fact]
    public void InsideARun_FramesOfEverySize_AreSplitIntoBatchesNoneLargerThanMaxFrameBytes_AndAllReadBack()
    {
        using var guard = new FlushGuard(TimeSpan.FromMinutes(1));
        var published = new PublishedFrames();
        Outbox outbox = published.NewOutbox(maxFrameBytes: 1024, guard);
        var text = PayloadCodec.Create(typeof(string), MessagePackSerializerOptions.Standard, "test.text");
        var random = new Random(20261126);
        var sent = new List<string>();

        RunScope? run = RunScope.Open();
        try
        {
            for (int i = 0; i < 20_000; i++)
            {
                // Mostly small frames (many to a batch, so that some batch ends on every distance from the bound), some
                // up to the largest that fits alone (about 990 bytes of text).
                string payload = new('x', random.Next(4) == 0 ? random.Next(0, 990) : random.Next(0, 300));
                // Half the frames with names not pre-encoded (never replaced by a reference: such items keep their full
                // size right up to the bound), half in pairs that refer to the names of the frame before.
                bool encoded = i % 4 >= 2;
                var frame = new Frame { Kind = FrameKind.Send, SenderNode = "a", SenderNodeEncoded = encoded ? s_a : null, SenderId = 1, RecipientId = i, Contract = text.Contract, ContractEncoded = encoded ? text.ContractEncoded : null };
                if (outbox.Append(frame, text, payload, "test.subject", null, 0, null) == 0)
                {
                    sent.Add(payload);
                }
            }
        }
        finally
        {
            RunScope.Close(run);
        }

        Assert.True(SpinWait.SpinUntil(() => published.Frames == sent.Count, s_wait), $"{published.Frames} of {sent.Count} frames were published");
        var read = new List<string>();
        foreach (byte[] message in published.Messages)
        {
            Assert.True(message.Length <= 1024, $"a published message of {message.Length} bytes exceeds MaxFrameBytes (1024)");
            PublishedFrames.Read(message, (in Frame _, ReadOnlyMemory<byte> bytes, int payloadAt) => read.Add((string)Frame.ReadPayload(bytes, payloadAt, text)!));
        }

        Assert.Equal(20_000, sent.Count); // every frame fits in 1,024 bytes alone
        Assert.Equal(sent, read);
        Assert.True(published.Messages.Count > 1_000, "the burst should have been split into many batches");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task ProducersAppendingAtOnce_WithContractsThatAlternate_EveryFrameReadsBackWithItsOwnNames(int round)
    {
        using var guard = new FlushGuard();
        var published = new PublishedFrames();
        Outbox outbox = published.NewOutbox(maxFrameBytes: 4096 * round, guard); // batches of a few to many frames
        var text = PayloadCodec.Create(typeof(string), MessagePackSerializerOptions.Standard, "test.text");
        var number = PayloadCodec.Create(typeof(long), MessagePackSerializerOptions.Standard, "test.a-longer-contract-name");
        const int producers = 4;
        const int each = 5_000;

        // Each producer sends its own sequence; every third frame is of the other contract, so that the frame before a
        // frame in a batch often has another contract (its own producer's, or another producer's).
        await Task.WhenAll(Enumerable.Range(0, producers).Select(p => Task.Run(() =>
        {
            for (long seq = 0; seq < each; seq++)
            {
                PayloadCodec codec = seq % 3 == 0 ? number : text;
                var frame = new Frame { Kind = FrameKind.Send, SenderNode = "a", SenderNodeEncoded = s_a, SenderId = seq, RecipientId = p, Contract = codec.Contract, ContractEncoded = codec.ContractEncoded };
                object payload = codec == number ? seq : $"{p}:{seq}";
                Assert.Equal(0, outbox.Append(frame, codec, payload, "test.subject", null, 0, null));
            }
        })));

        Assert.True(SpinWait.SpinUntil(() => published.Frames == producers * each, s_wait), $"{published.Frames} of {producers * each} frames were published");
        long[] next = new long[producers];
        void Check(in Frame frame, ReadOnlyMemory<byte> bytes, int payloadAt)
        {
            int p = (int)frame.RecipientId;
            Assert.Equal(next[p]++, frame.SenderId); // each producer's frames in its order, none lost or doubled
            Assert.Equal("a", frame.SenderNode);
            if (frame.SenderId % 3 == 0)
            {
                Assert.Equal(number.Contract, frame.Contract);
                Assert.Equal(frame.SenderId, (long)Frame.ReadPayload(bytes, payloadAt, number)!);
            }
            else
            {
                Assert.Equal(text.Contract, frame.Contract);
                Assert.Equal($"{p}:{frame.SenderId}", (string)Frame.ReadPayload(bytes, payloadAt, text)!);
            }
        }

        foreach (byte[] message in published.Messages)
        {
            PublishedFrames.Read(message, Check);
        }

        Assert.All(next, n => Assert.Equal(each, n));
    }

    private static readonly byte[] s_a = MessagePackSerializer.Serialize("a");

    private static Outbox NewOutbox(ConcurrentQueue<(int Thread, int Items)> published, FlushGuard guard)
        => new(
            "test.batch",
            "test",
            (_, segment) =>
            {
                published.Enqueue((Environment.CurrentManagedThreadId, segment.Items.Count));
                return ValueTask.CompletedTask;
            },
            (_, _, ex) => throw new InvalidOperationException("publishing failed", ex),
            maxFrameBytes: 64 * 1024,
            guard);

    private static readonly PayloadCodec s_int = PayloadCodec.Create(typeof(int), MessagePackSerializerOptions.Standard);

    private static void Append(Outbox outbox, int n)
    {
        var frame = new Frame { Kind = FrameKind.Send, SenderNode = "a", SenderId = 1, RecipientId = 2, Contract = "test.n" };
        Assert.Equal(0, outbox.Append(frame, s_int, n, "test.subject", null, 0, null));
    }

    /// <summary>Holds an ask until a second one comes, then answers both in the same handler.</summary>
    private sealed class Pair : Target, ITarget<Pair>
    {
        private (ReplyToken<string> Token, string Text)? _held;

        public static void Wire(Channels<Pair> channels) => channels.Deferred<Ask, string>(static (self, m, token, _) => self.Take(m.Text, token));

        private void Take(string text, ReplyToken<string> token)
        {
            if (_held is not { } held)
            {
                _held = (token, text);
                return;
            }

            _held = null;
            held.Token.Reply($"paired {held.Text}");
            token.Reply($"paired {text}");
        }
    }

    private sealed record SendAndWait(Address To, Task Arrived) : IRequest<bool>;

    private sealed class Blocker : Target, ITarget<Blocker>
    {
        public static void Wire(Channels<Blocker> channels) => channels.Request<SendAndWait, bool>(static (_, m, ctx) =>
        {
            ctx.Send(m.To, new Numbered("blocker", 1));
            return m.Arrived.Wait(s_wait); // blocks this thread: what a handler should never do, and must survive
        });
    }

    private sealed class Signal(TaskCompletionSource arrived) : Target, ITarget<Signal>
    {
        public static void Wire(Channels<Signal> channels) => channels.On<Numbered>(static (self, _, _) => self.Arrived());

        private void Arrived() => arrived.TrySetResult();
    }
}
