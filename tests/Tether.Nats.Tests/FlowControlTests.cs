using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Tether.Nats.Tests;

/// <summary>
/// Overload across nodes (README, "What the runtime guarantees": flow control between nodes). A sender that outruns a
/// remote receiver is slowed by credits before anything is dropped; what is still dropped is dropped on the sender's
/// node, counted there (<see cref="BrokerStatistics.SendsDropped"/>) and logged naming the target. Heavy: Exclusive.
/// </summary>
[Collection(Exclusive.Name)]
public sealed class FlowControlTests(ITestOutputHelper output)
{
    // A hang guard only, never a timed claim: each wait ends as soon as its condition holds (generous: these tests share
    // 2 cores with other builds). Claims are asserted against their own bounds, named where they are checked.
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);

    public sealed record Seq(long N, Address ReplyTo);

    public sealed record Back(long N);

    public sealed record Hold : IRequest<string>;

    /// <summary>A numbered message with a payload of its own size (a burst measured in bytes, not frames).</summary>
    public sealed record Pad(long N, byte[] Bytes);

    /// <summary>Counts what comes back, in order: a number seen twice or out of order is counted as such.</summary>
    public sealed class Tally : Target, ITarget<Tally>
    {
        private readonly HashSet<long> _seen = [];
        public long Count;
        public long Disorder;
        public long Duplicates;
        public long Last = -1;

        public static void Wire(Channels<Tally> channels) => channels
            .On<Back>(static (self, m, _) => self.Seen(m.N))
            .On<Seq>(static (self, m, _) => self.Seen(m.N))
            .On<Pad>(static (self, m, _) => self.Seen(m.N))
            .Request<Ask, string>(static (_, m, ctx) => $"tally {m.Text} at {ctx.Self.Node}");

        private void Seen(long n)
        {
            if (!_seen.Add(n))
            {
                Interlocked.Increment(ref Duplicates);
            }

            if (n <= Last)
            {
                Interlocked.Increment(ref Disorder); // delivered twice, or out of order
            }

            Last = n;
            Interlocked.Increment(ref Count);
        }
    }

    /// <summary>Sends each <see cref="Seq"/> back as <see cref="Back"/>.</summary>
    public sealed class Bouncer : Target, ITarget<Bouncer>
    {
        public static void Wire(Channels<Bouncer> channels) => channels
            .On<Seq>(static (_, m, ctx) => ctx.Send(m.ReplyTo, new Back(m.N)));
    }

    /// <summary>Handles a <see cref="Seq"/> in a fixed CPU time (the receiver's capacity) and counts it in order.</summary>
    public sealed class Worker(long ticksPerMessage) : Target, ITarget<Worker>
    {
        public long Count;
        public long Disorder;
        public long Last = -1;

        public static void Wire(Channels<Worker> channels) => channels
            .On<Seq>(static (self, m, _) => self.Work(m.N))
            .Request<Ask, string>(static (_, m, ctx) => $"worker {m.Text} at {ctx.Self.Node}");

        private void Work(long n)
        {
            long until = Stopwatch.GetTimestamp() + ticksPerMessage;
            while (Stopwatch.GetTimestamp() < until)
            {
                Thread.SpinWait(20); // the work itself: this target handles at most 1 / (its time per message) messages a second
            }

            if (n <= Last)
            {
                Interlocked.Increment(ref Disorder);
            }

            Last = n;
            Interlocked.Increment(ref Count);
        }
    }

    /// <summary>Blocks its mailbox on <see cref="Hold"/> until released, then counts what it gets.</summary>
    public sealed class Gate(TaskCompletionSource holding, Task release) : Target, ITarget<Gate>
    {
        private readonly TaskCompletionSource _holding = holding;
        private readonly Task _release = release;
        public long Count;
        public long Disorder;
        public long Last = -1;

        public static void Wire(Channels<Gate> channels) => channels
            .Request<Hold, string>(static (self, _, _) =>
            {
                self._holding.TrySetResult();
                self._release.Wait(); // the stuck handler under test: it holds its thread until the test lets it go
                return "released";
            })
            .Request<Ask, string>(static (_, m, ctx) => $"gate {m.Text} at {ctx.Self.Node}")
            .On<Seq>(static (self, m, _) =>
            {
                if (m.N <= self.Last)
                {
                    Interlocked.Increment(ref self.Disorder);
                }

                self.Last = m.N;
                Interlocked.Increment(ref self.Count);
            });
    }

    private static ContractRegistry Contracts() => Cluster.Contracts()
        .Register<Seq>("flow.seq")
        .Register<Back>("flow.back")
        .Register<Hold>("flow.hold")
        .Register<Pad>("flow.pad");

    [Fact]
    public async Task Burst_Of500000Sends_ToARemoteEcho_WithDefaultOptions_LosesNothing()
    {
        // The user's report: 500,000 fire-and-forget sends to an echo on another node lost ~70 % at the receiver's full
        // mailbox. The policy: the receiver parks what its mailbox cannot take and withholds credit, the sender holds what has
        // no credit (up to MaxPendingBytesPerNode, 64 MB by default; this burst needs about 25 MB), so nothing is dropped.
        const int burst = 500_000;
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, BrokerProxy aProxy) = await cluster.AddNodeAsync("alpha", contracts: Contracts());
        (Node b, BrokerProxy bProxy) = await cluster.AddNodeAsync("beta", contracts: Contracts());
        Tally tally = null!;
        Address back = a.Spawn(() => tally = new Tally());
        Address echo = b.Spawn(() => new Bouncer());
        Address remote = new("beta", echo.Id);
        Assert.Equal("tally warm at alpha", await b.Request(new Address("alpha", back.Id), new Ask("warm")).AsTask().WaitAsync(s_wait));

        var watch = Stopwatch.StartNew();
        for (int i = 0; i < burst; i++)
        {
            a.Send(remote, new Seq(i, back));
        }

        TimeSpan sending = watch.Elapsed;
        await Eventually.Until(() => Interlocked.Read(ref tally.Count) == burst, $"all {burst} echoes back (got {Interlocked.Read(ref tally.Count)}; alpha dropped {aProxy.Statistics.SendsDropped} + {a.Statistics.Dropped}, beta {bProxy.Statistics.SendsDropped} + {b.Statistics.Dropped})", TimeSpan.FromSeconds(180)); // a hang guard only: this test claims no loss, not a speed
        output.WriteLine($"sent {burst} in {sending.TotalMilliseconds:0} ms, all back after {watch.Elapsed.TotalMilliseconds:0} ms; alpha waited for credit {aProxy.Statistics.CreditWaits} times, beta {bProxy.Statistics.CreditWaits}");

        Assert.Equal(0, Interlocked.Read(ref tally.Disorder));
        Assert.Equal(0, a.Statistics.Dropped);
        Assert.Equal(0, b.Statistics.Dropped);
        Assert.Equal(0, aProxy.Statistics.SendsDropped);
        Assert.Equal(0, bProxy.Statistics.SendsDropped);
        Assert.Equal(0, aProxy.Statistics.DroppedForPeers);
        Assert.Equal(0, bProxy.Statistics.DroppedForPeers);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Sender_AtTenTimesWhatTheReceiverHandles_IsSlowedAndDropsOnlyOnItsOwnNode_MemoryStaysBounded_NothingTwice(int round)
    {
        _ = round;

        // Normal runs: 4 s (the suite's budget); TETHER_OVERLOAD_SECONDS=30 runs the issue's 30 s.
        int seconds = int.TryParse(Environment.GetEnvironmentVariable("TETHER_OVERLOAD_SECONDS"), out int s) && s > 0 ? s : 4;
        const int receiverRate = 10_000; // the worker's CPU time per message: 100 µs
        const int senderRate = 10 * receiverRate;
        const long heapBound = 96L * 1024 * 1024;

        await using Cluster cluster = await Cluster.StartAsync();
        var small = new BrokerOptions { MaxPendingBytesPerNode = 1024 * 1024 }; // reached within the first second
        (Node a, BrokerProxy aProxy) = await cluster.AddNodeAsync("alpha", small, contracts: Contracts());
        (Node b, BrokerProxy bProxy) = await cluster.AddNodeAsync("beta", contracts: Contracts());
        Worker worker = null!;
        Address local = b.Spawn(() => worker = new Worker(Stopwatch.Frequency / receiverRate));
        Address remote = new("beta", local.Id);
        Assert.Equal("worker warm at beta", await a.Request(remote, new Ask("warm")).AsTask().WaitAsync(s_wait));
        Address alphaTally = a.Spawn(() => new Tally());

        long baseline = GC.GetTotalMemory(forceFullCollection: true);
        long peak = baseline;
        long workingBefore = Environment.WorkingSet;
        long sent = 0;
        var clock = Stopwatch.StartNew();
        long nextSample = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds)) // the load's length, not a bound
        {
            // Paced load generation (not synchronisation): as many sends as the rate allows by now.
            long due = (long)(clock.Elapsed.TotalSeconds * senderRate);
            for (; sent < due; sent++)
            {
                a.Send(remote, new Seq(sent, alphaTally));
            }

            if (clock.ElapsedMilliseconds >= nextSample)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true)); // what is live, both nodes (one process)
                nextSample = clock.ElapsedMilliseconds + 500;
            }

            await Task.Delay(5); // the pace of the load generator
        }

        long handledDuring = Interlocked.Read(ref worker.Count);
        BrokerStatistics sender = aProxy.Statistics;
        output.WriteLine($"{seconds} s: sent {sent} ({sent / seconds}/s), handled {handledDuring} ({handledDuring / seconds}/s), dropped on alpha {sender.SendsDropped}, credit waits {sender.CreditWaits}, live heap growth peak {(peak - baseline) / 1024 / 1024} MB, working set growth {(Environment.WorkingSet - workingBefore) / 1024 / 1024} MB");

        Assert.True(sent >= 5 * handledDuring, $"the load was not several times what the receiver handles (sent {sent}, handled {handledDuring})");
        Assert.True(sender.CreditWaits > 0, "the sender never waited for credit");
        Assert.True(sender.SendsDropped > 0, "the sender dropped nothing although it outran the receiver ten times over a 1 MB bound");
        Assert.True(peak - baseline < heapBound, $"the live heap grew by {(peak - baseline) / 1024 / 1024} MB, more than the stated {heapBound / 1024 / 1024} MB (1 MB pending on the sender, a window and a mailbox on the receiver)");

        // Everything is accounted for: handled on beta, or dropped (and counted) on alpha; nothing twice, nothing dropped on beta.
        await Eventually.Until(() => Interlocked.Read(ref worker.Count) + aProxy.Statistics.SendsDropped == sent, $"every send handled or counted dropped (handled {Interlocked.Read(ref worker.Count)}, dropped {aProxy.Statistics.SendsDropped}, sent {sent})", TimeSpan.FromSeconds(120)); // a hang guard only: a drain, not a timed claim
        Assert.Equal(0, Interlocked.Read(ref worker.Disorder));
        Assert.Equal(0, b.Statistics.Dropped);
        Assert.Equal(0, bProxy.Statistics.DroppedForPeers);
        Assert.Equal(0, bProxy.Statistics.SendsDropped);

        // Both serve normally afterwards, both ways.
        Assert.Equal("worker after at beta", await a.Request(remote, new Ask("after")).AsTask().WaitAsync(s_wait));
        Assert.Equal("tally after at alpha", await b.Request(new Address("alpha", alphaTally.Id), new Ask("after")).AsTask().WaitAsync(s_wait));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task StuckRemoteTarget_SendsWaitForCredit_BeyondTheBoundAreDroppedAndCountedOnTheSender_TheRestArriveInOrder(int round)
    {
        _ = round;
        var log = new LogSink();
        await using Cluster cluster = await Cluster.StartAsync();
        using ILoggerFactory logging = LoggerFactory.Create(builder => builder.AddProvider(log));
        await using Node a = Node.Create(new NodeOptions { Name = "alpha", LoggerFactory = logging });
        await using BrokerProxy aProxy = await BrokerProxy.AttachAsync(a, new BrokerOptions { Url = cluster.Server.Url, Contracts = Contracts(), FlowWindow = 64, MaxPendingBytesPerNode = 64 * 1024 });
        (Node b, BrokerProxy bProxy) = await cluster.AddNodeAsync("beta", contracts: Contracts());
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Gate gate = null!;
        Address local = b.Spawn(() => gate = new Gate(holding, release.Task), new SpawnOptions { MailboxCapacity = 16 });
        Address remote = new("beta", local.Id);
        Address sink = a.Spawn(() => new Tally());
        Task<string> held = a.Request(remote, new Hold(), s_wait).AsTask();
        await holding.Task.WaitAsync(s_wait);

        try
        {
            const int count = 20_000; // about 600 KB of frames: far beyond a 64-frame window and a 64 KB bound
            for (int i = 0; i < count; i++)
            {
                a.Send(remote, new Seq(i, sink));
            }

            await Eventually.Until(() => aProxy.Statistics.SendsDropped > 0, "alpha to drop sends beyond its 64 KB bound", s_wait);
            await Eventually.Until(() => aProxy.Statistics.CreditWaits > 0, "alpha to wait for credit (beta's target is stuck)", s_wait);
            Assert.Equal(0, b.Statistics.Dropped); // beta parked what its full mailbox could not take; the node dropped nothing
            Assert.Contains(log.Lines, l => l.Contains($"beta/{local.Id}", StringComparison.Ordinal) && l.Contains("MaxPendingBytesPerNode", StringComparison.Ordinal));

            // A request that finds the bound full is refused at once with mailbox-full, not left to its deadline. (The
            // queue is topped up first: a send just dropped means it is within one small frame of the bound, and a
            // 4 KB request does not fit even if a new epoch let a window of 64 frames out meanwhile.)
            long droppedBefore = aProxy.Statistics.SendsDropped;
            for (int i = count; i < count + 5_000; i++)
            {
                a.Send(remote, new Seq(i, sink));
            }

            Assert.True(aProxy.Statistics.SendsDropped > droppedBefore, "the top-up dropped nothing: the bound was not full");
            var watch = Stopwatch.StartNew();
            TetherException refused = await Assert.ThrowsAsync<TetherException>(async () => await a.Request(remote, new Ask(new string('x', 4096)), s_wait));
            Assert.Equal(ErrorCodes.MailboxFull, refused.Code);
            // Claim (README, flow control: a request that finds the sender's bound full fails with mailbox-full at once):
            // decided on this node, so 2 s is all margin for a loaded machine, and below the 3 s no-progress restart that
            // would let a held request out to be refused by beta instead.
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"the refusal took {watch.Elapsed.TotalSeconds:0.0} s: it should be at once, not after the 3 s no-progress restart or near the 30 s deadline");

            release.SetResult();
            Assert.Equal("released", await held.WaitAsync(s_wait));
            await Eventually.Until(() => Interlocked.Read(ref gate.Count) + aProxy.Statistics.SendsDropped == count + 5_000, $"every send handled or counted dropped (handled {Interlocked.Read(ref gate.Count)}, dropped {aProxy.Statistics.SendsDropped})", s_wait);
            Assert.Equal(0, Interlocked.Read(ref gate.Disorder));
            Assert.Equal(0, b.Statistics.Dropped);

            // If the target was stuck past 3 s, a new epoch let more frames out than beta parks for one target: beta
            // dropped those, and alpha counted each too (the sum above holds only if it did).
            Assert.True(bProxy.Statistics.DroppedForPeers <= aProxy.Statistics.SendsDropped, $"beta dropped {bProxy.Statistics.DroppedForPeers} for alpha, alpha counted {aProxy.Statistics.SendsDropped} in all");
            Assert.Equal("gate again at beta", await a.Request(remote, new Ask("again")).AsTask().WaitAsync(s_wait));
        }
        finally
        {
            release.TrySetResult();
        }
    }

    // Issue 16 item 7: "a NATS slow-consumer disconnect, if it happens, is recovered from and logged". It was skipped (7 of
    // 10 runs passed); measured again with diagnostics in the failure messages, 10 runs of the earlier form here: 6
    // passed; 1 got no slow consumer (alpha's publishing stopped after 127,656 frames of 34 bytes, about the 4 MB the
    // kernel's buffers between the server and the stalled relay hold, and the server never had to hold 128 KB for beta);
    // 2 lost the 100 "sends after the storm" in a second or third cut of beta (beta's disconnects rose during the wait:
    // alpha's outbox was empty, but its NATS connection and the server still held the storm's tail, and with a 1 ms write
    // deadline the server cut alpha too); 1 had its failure hidden by BrokerProxy.DisposeAsync throwing NATS.Net's
    // NatsTimeoutException (fixed: a dispose no longer throws). None of these lost sends was a product gap (sends are at
    // most once). What the runs did show is one: frames lost with a connection took their credit with them, so alpha's
    // window stayed smaller by that many frames for good, unless the loss reached a whole window and alpha stalled 3 s
    // (in 9 of 10 runs of the form below without the fix, the count never started again; 30 s after beta's reconnect
    // alpha's window of 16,384 still missed 8,638, 12,289 and 13,987 frames of credit in 3 of 4 runs). Now a reconnect,
    // on either side, starts the count again at once (FlowControl.OnReconnected), and this test checks that no credit
    // is left missing. The form that makes it deterministic (with the fix, 40 runs in a row passed, four loops of 10):
    // - 1 KB messages under default flow control: one window (16,384 frames) is 16 MB in flight, four times what those
    //   kernel buffers absorb, so the server must hold more than its 128 KB max_pending for beta and cuts it off. The
    //   burst goes on until the server's monitoring endpoint counts the slow consumer (a hang guard of 60 s).
    // - A 250 ms write deadline, not 1 ms (which cut alpha as well on this loaded machine, and beta again and again).
    // - The 100 sends after the storm go once a request sent after the cut has been answered: the storm's tail is then
    //   behind them (delivered, or lost with a connection), and what the claim is about, sends made after the recovery,
    //   all arrive, in order, once.
    [Fact]
    public async Task SlowConsumerDisconnect_ProvokedByTheServersPendingLimit_IsLoggedAndRecoveredFrom()
    {
        // A server that allows a client only 128 KB of pending output cuts off a receiver that falls behind a burst (NATS's
        // slow-consumer rule). The receiver logs the disconnect, reconnects by itself, and both nodes serve normally after;
        // frames lost with the connection are lost (at most once), nothing arrives twice or out of order, and the sender,
        // whose reports stopped, starts a new count and goes on.
        var log = new LogSink();
        using ILoggerFactory logging = LoggerFactory.Create(builder => builder.AddProvider(log));
        int monitor = NatsServer.FreePort();
        using NatsServer server = await NatsServer.StartWithConfigAsync(port => $"port: {port}\nhttp: \"127.0.0.1:{monitor}\"\nmax_pending: 131072\nmax_payload: 131072\nwrite_deadline: \"250ms\"\n");
        using var http = new HttpClient();
        await using Node a = Node.Create(new NodeOptions { Name = "alpha", LoggerFactory = logging });
        await using Node b = Node.Create(new NodeOptions { Name = "beta", LoggerFactory = logging });
        // Beta reaches the server through a relay that can stop reading for it: a receiver that falls behind, made
        // deterministic. A failure timeout longer than the stall, so that neither node takes the other for lost meanwhile
        // (heartbeats use the relay too); batches under the server's max_payload; 8 MB may wait on alpha for beta.
        await using var relay = new TcpRelay(new Uri(server.Url), targetReceiveBufferBytes: 16 * 1024);
        var options = new BrokerOptions { Url = server.Url, Contracts = Contracts(), FailureTimeout = TimeSpan.FromSeconds(60), MaxFrameBytes = 64 * 1024, MaxPendingBytesPerNode = 8 * 1024 * 1024 };
        await using BrokerProxy aProxy = await BrokerProxy.AttachAsync(a, options);
        await using BrokerProxy bProxy = await BrokerProxy.AttachAsync(b, options with { Url = $"nats://127.0.0.1:{relay.Port}" });
        Tally tally = null!;
        Address local = b.Spawn(() => tally = new Tally());
        Address remote = new("beta", local.Id);
        Address alphaTally = a.Spawn(() => new Tally());
        Assert.Equal("tally warm at beta", await a.Request(remote, new Ask("warm")).AsTask().WaitAsync(s_wait));
        byte[] pad = new byte[1024];
        long sent = 0;

        async Task<long> SlowConsumers()
        {
            string varz = await http.GetStringAsync(new Uri($"http://127.0.0.1:{monitor}/varz"));
            using var doc = System.Text.Json.JsonDocument.Parse(varz);
            return doc.RootElement.GetProperty("slow_consumers").GetInt64();
        }

        // For failure messages: both nodes' flow-control state, the connections as the server sees them, and the logs.
        async Task<string> Diagnose()
        {
            string connz;
            try
            {
                using var doc = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{monitor}/connz")));
                connz = string.Join("; ", doc.RootElement.GetProperty("connections").EnumerateArray().Select(c => $"cid {c.GetProperty("cid")} {(c.TryGetProperty("name", out var n) ? n.ToString() : "")} pending {c.GetProperty("pending_bytes")} in {c.GetProperty("in_msgs")} out {c.GetProperty("out_msgs")} subs {c.GetProperty("subscriptions")}"));
                connz += $"; server slow consumers {await SlowConsumers()}";
            }
            catch (Exception ex) when (ex is HttpRequestException or System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException)
            {
                connz = $"(monitoring failed: {ex.Message})";
            }

            string serverLog = string.Join(" | ", server.ReadLog().Split('\n').Where(l => l.Contains("Slow Consumer", StringComparison.Ordinal) || l.Contains("stall", StringComparison.OrdinalIgnoreCase) || l.Contains("Error", StringComparison.Ordinal)).TakeLast(10));
            return $"sent {sent}; beta's tally: count {Interlocked.Read(ref tally.Count)}, last {Interlocked.Read(ref tally.Last)}, out of order {Interlocked.Read(ref tally.Disorder)}, twice {Interlocked.Read(ref tally.Duplicates)}; "
                + $"alpha's outbox for beta: {aProxy.Outboxes.FindNodeOutbox("beta")?.DescribeFlow()}; alpha published {aProxy.MessagesPublished} NATS messages, frames sent {aProxy.Statistics.FramesSent}, dropped {aProxy.Statistics.SendsDropped}, credit waits {aProxy.Statistics.CreditWaits}; "
                + $"beta counts of alpha: {bProxy.Flow.DescribeIn("alpha")}; beta received {Interlocked.Read(ref bProxy.Hot.Received)} frames in {bProxy.BatchesReceived} batches, bad {bProxy.Statistics.BadFrames}, node dropped {b.Statistics.Dropped}, dropped for peers {bProxy.Statistics.DroppedForPeers}; "
                + $"alpha connected {aProxy.IsConnected} (disconnects {aProxy.Connection.Disconnects}), beta connected {bProxy.IsConnected} (disconnects {bProxy.Connection.Disconnects}); server: {connz}; server log: {serverLog}; "
                + $"log: {string.Join(" | ", log.Lines.Where(l => l.Contains("NATS", StringComparison.Ordinal) || l.Contains("count", StringComparison.Ordinal) || l.Contains("ailed", StringComparison.Ordinal)).Take(30))}";
        }

        Assert.Equal(0, await SlowConsumers());
        relay.Stall();
        long burst = Stopwatch.GetTimestamp();
        while (await SlowConsumers() == 0)
        {
            // A hang guard: the first window (16 MB) is enough; a new count lets another out every 3 s meanwhile.
            if (Stopwatch.GetElapsedTime(burst) > TimeSpan.FromSeconds(60))
            {
                Assert.Fail($"the server reported no slow consumer within 60 s of a burst to a receiver that reads nothing: {await Diagnose()}");
            }

            for (int i = 0; i < 2_000; i++)
            {
                a.Send(remote, new Pad(sent++, pad));
            }

            await Task.Delay(20); // the pace of the load generator
        }

        // The server cut beta off (it held more than its 128 KB limit for it). Beta learns it when the relay hands it the
        // rest of its stream and the close.
        relay.Resume();
        long cut = Stopwatch.GetTimestamp();
        try
        {
            await Eventually.Until(() => bProxy.Connection.Disconnects > 0, "the server to cut beta off as a slow consumer", s_wait);
            await Eventually.Until(() => aProxy.IsConnected && bProxy.IsConnected, "both nodes connected again", s_wait);
            await Eventually.Until(() => log.Lines.Any(l => l.Contains("beta is connected to NATS again", StringComparison.Ordinal)), "beta to log its reconnect", s_wait);

            // Frames lost with beta's connection took their credit with them: beta's reconnect tells alpha, which starts a
            // new count with it at once (without, the window stayed smaller by what was lost until a 3 s stall).
            await Eventually.Until(() => log.Lines.Any(l => l.Contains("Flow control with node beta starts a new count", StringComparison.Ordinal)), "alpha to start a new count with beta", s_wait);
        }
        catch (Xunit.Sdk.XunitException ex)
        {
            Assert.Fail($"{ex.Message}: {await Diagnose()}");
        }

        Assert.Contains(log.Lines, l => l.Contains("beta lost its NATS connection", StringComparison.Ordinal));

        // Recovery: a request made after the cut gets through, behind the rest of alpha's backlog (the storm's tail is
        // behind its answer). One that fails meanwhile (mailbox-full while 8 MB wait, or lost in another cut) is tried again.
        int probes = 0;
        string? answer = null;
        string? lastError = null;
        while (answer is null)
        {
            if (Stopwatch.GetElapsedTime(cut) > TimeSpan.FromSeconds(120)) // a hang guard: the claim is that it ends, not how soon
            {
                Assert.Fail($"no request from alpha got an answer from beta within 120 s of the cut ({probes} tried, the last failed with {lastError}): {await Diagnose()}");
            }

            probes++;
            try
            {
                answer = await a.Request(remote, new Ask("probe"), TimeSpan.FromSeconds(10));
            }
            catch (TetherException ex)
            {
                lastError = ex.Code;
                await Task.Delay(100); // the pace of the retries
            }
        }

        TimeSpan resumed = Stopwatch.GetElapsedTime(cut);
        Assert.Equal("tally probe at beta", answer);
        output.WriteLine($"beta answered {resumed.TotalSeconds:0.0} s after the cut ({probes} requests tried, the last failure {lastError}): {await Diagnose()}");

        // After the storm: sends all arrive, in order.
        long before = Interlocked.Read(ref tally.Count);
        long disconnectsBefore = bProxy.Connection.Disconnects;
        for (int i = 0; i < 100; i++)
        {
            a.Send(remote, new Pad(sent++, pad));
        }

        try
        {
            await Eventually.Until(() => Interlocked.Read(ref tally.Last) == sent - 1, "the sends after the storm to arrive", s_wait);
        }
        catch (Xunit.Sdk.XunitException)
        {
            Assert.Fail($"the sends after the storm did not all arrive (beta's disconnects before them {disconnectsBefore}): {await Diagnose()}");
        }

        // No credit was lost for good with the frames: beta reports every frame of the new count taken (with the credit of
        // the lost frames still missing, alpha's window would stay that much smaller until a 3 s stall).
        try
        {
            await Eventually.Until(() => aProxy.Outboxes.FindNodeOutbox("beta")!.Unconfirmed == 0, "beta to report every frame of alpha's new count taken", s_wait);
        }
        catch (Xunit.Sdk.XunitException)
        {
            Assert.Fail($"alpha still waits for beta's report of frames beta has taken: {await Diagnose()}");
        }

        output.WriteLine(await Diagnose());
        Assert.True(Interlocked.Read(ref tally.Count) - before >= 100, "fewer than the 100 sends after the storm arrived");
        Assert.True(Interlocked.Read(ref tally.Count) <= sent, "more arrived than were sent");
        Assert.Equal(0, Interlocked.Read(ref tally.Duplicates));
        Assert.Equal(0, Interlocked.Read(ref tally.Disorder));
        Assert.Equal("tally after at beta", await a.Request(remote, new Ask("after")).AsTask().WaitAsync(s_wait));
        Assert.Equal("tally after at alpha", await b.Request(new Address("alpha", alphaTally.Id), new Ask("after")).AsTask().WaitAsync(s_wait));
    }

    private sealed class LogSink : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IReadOnlyCollection<string> Lines => _lines.ToArray();

        public ILogger CreateLogger(string categoryName) => new Writer(this);

        public void Dispose()
        {
        }

        private sealed class Writer(LogSink owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull
                => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
                => owner._lines.Enqueue(formatter(state, exception));
        }
    }
}
