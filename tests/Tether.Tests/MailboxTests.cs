using Microsoft.Extensions.Logging;
using Tether.Tests.TestSupport;

namespace Tether.Tests;

/// <summary>Mailboxes are bounded: when full, requests are rejected with an error and sends and events are dropped and counted.</summary>
public sealed class MailboxTests
{
    [Fact]
    public async Task Request_FullMailbox_FailsMailboxFullAtOnce()
    {
        await using Node node = Node.Create();
        var probe = new Probe();
        Address target = node.Spawn(() => probe, new SpawnOptions { MailboxCapacity = 2 });
        using var gate = new ManualResetEventSlim();
        await Hold(node, target, gate);
        node.Send(target, new Note(1));
        Task<int> queued = node.Request(target, new Ping(2)).AsTask();

        ValueTask<int> rejected = node.Request(target, new Ping(3));

        Assert.True(rejected.IsCompleted, "a request to a full mailbox must be rejected at once, not at its deadline");
        TetherException error = await rejected.FailsWith(ErrorCodes.MailboxFull, "the request to the full mailbox");
        Assert.Contains(target.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Equal(2, node.Statistics.MailboxDepth);
        Assert.Equal(0, node.Statistics.Dropped); // a rejected request is answered, not dropped

        gate.Set();
        Assert.Equal(2, await queued.Within("the queued request is answered after the gate opens"));
        Assert.Equal(1, probe.Notes);
    }

    [Fact]
    public async Task Send_FullMailbox_IsDroppedCountedAndLogged()
    {
        var logs = new RecordingLoggerProvider();
        await using Node node = Node.Create(new NodeOptions { LoggerFactory = logs.CreateFactory() });
        var probe = new Probe();
        Address target = node.Spawn(() => probe, new SpawnOptions { MailboxCapacity = 3 });
        using var gate = new ManualResetEventSlim();
        await Hold(node, target, gate);

        for (int i = 0; i < 10; i++)
        {
            node.Send(target, new Note(i));
        }

        Assert.Equal(7, node.Statistics.Dropped);
        Assert.Equal(3, node.Statistics.MailboxDepth);

        // Drops are logged at 1, 2, 4 ... so an overload is visible without flooding the log.
        Assert.Equal(3, logs.Entries.Count(e => e.EventId.Id == 8 && e.Level == LogLevel.Warning));

        gate.Set();
        await Eventually.Until(() => node.Statistics.MailboxDepth == 0, "the mailbox drains once the gate opens");
        Assert.Equal(3, await node.Request(target, new CountNotes()).Within("the three queued notes were handled"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public async Task Send_ManyThreadsRacingIntoABoundedMailbox_AcceptExactlyItsCapacity(int round)
    {
        const int capacity = 100;
        const int threads = 4;
        const int perThread = 500;
        await using Node node = Node.Create();
        var probe = new Probe();
        Address target = node.Spawn(() => probe, new SpawnOptions { MailboxCapacity = capacity });
        using var gate = new ManualResetEventSlim();
        await Hold(node, target, gate);

        using var start = new Barrier(threads);
        await Task.WhenAll(Enumerable.Range(0, threads).Select(_ => Task.Run(() =>
        {
            start.SignalAndWait();
            for (int i = 0; i < perThread; i++)
            {
                node.Send(target, new Note(i));
            }
        }))).Within($"round {round}: the senders finish");

        Assert.Equal(capacity, node.Statistics.MailboxDepth);
        Assert.Equal((threads * perThread) - capacity, node.Statistics.Dropped);

        gate.Set();
        await Eventually.Until(() => node.Statistics.MailboxDepth == 0, $"round {round}: the mailbox drains once the gate opens");
        Assert.Equal(capacity, await node.Request(target, new CountNotes()).Within($"round {round}: the accepted notes are handled"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task Send_ProducersHammerASmallMailboxThatAlsoSendsToItself_NothingAcceptedIsLostAndTheBoundStaysExact(int round)
    {
        const int capacity = 16;
        const int producers = 6;
        const int perProducer = 60_000;
        await using Node node = Node.Create();
        var hammered = new Hammered();
        Address target = node.Spawn(() => hammered, new SpawnOptions { MailboxCapacity = capacity });

        // Full mailboxes, a consumer forever taking stacks, envelopes recycled on both sides: the races a bound and a pool can lose.
        await Task.WhenAll(Enumerable.Range(0, producers).Select(p => Task.Run(() =>
        {
            var random = new Random((round * 100) + p);
            for (int i = 0; i < perProducer; i++)
            {
                node.Send(target, new Hit(target, SendOn: random.Next(4) == 0));
            }
        }))).Within($"round {round}: the producers finish");

        long accepted = 0;
        await Eventually.Until(
            () =>
            {
                accepted = (producers * perProducer) + hammered.SelfSent - node.Statistics.Dropped;
                return hammered.Handled == accepted && node.Statistics.MailboxDepth == 0;
            },
            $"round {round}: every accepted message is handled and the mailbox is empty");
        Assert.True(hammered.Handled > capacity, "the mailbox accepted almost nothing");

        // The bound is still exact afterwards: a blocked target takes exactly its capacity.
        hammered.SendOn = false;
        using var gate = new ManualResetEventSlim();
        await Hold(node, target, gate);
        long dropped = node.Statistics.Dropped;
        for (int i = 0; i < capacity * 3; i++)
        {
            node.Send(target, new Hit(target, SendOn: false));
        }

        Assert.Equal(capacity * 2, node.Statistics.Dropped - dropped);
        Assert.Equal(capacity, node.Statistics.MailboxDepth);
        gate.Set();
    }

    [Fact]
    public async Task Publish_SubscriberMailboxFull_EventIsDroppedAndCounted()
    {
        await using Node node = Node.Create();
        var subscriber = new Listener("notes");
        Address target = node.Spawn(() => subscriber, new SpawnOptions { MailboxCapacity = 1 });
        using var gate = new ManualResetEventSlim();
        await Hold(node, target, gate);

        Assert.Equal(1, node.Publish("notes", new Note(1)));
        Assert.Equal(1, node.Publish("notes", new Note(2)));
        Assert.Equal(1, node.Publish("notes", new Note(3)));

        Assert.Equal(2, node.Statistics.Dropped);
        gate.Set();
        await Eventually.Until(() => subscriber.Notes == 1, "the one queued event is handled");
    }

    [Fact]
    public async Task Mailbox_NodeDefaultCapacity_AppliesWhenSpawnOptionsNameNone()
    {
        await using Node node = Node.Create(new NodeOptions { DefaultMailboxCapacity = 5 });
        Address target = node.Spawn(() => new Probe());
        using var gate = new ManualResetEventSlim();
        await Hold(node, target, gate);

        for (int i = 0; i < 8; i++)
        {
            node.Send(target, new Note(i));
        }

        Assert.Equal(3, node.Statistics.Dropped);
        gate.Set();
    }

    [Fact]
    public async Task Mailbox_AfterOverloadDrains_AcceptsAgain()
    {
        await using Node node = Node.Create();
        var probe = new Probe();
        Address target = node.Spawn(() => probe, new SpawnOptions { MailboxCapacity = 4 });
        for (int round = 1; round <= 5; round++)
        {
            using var gate = new ManualResetEventSlim();
            await Hold(node, target, gate);
            for (int i = 0; i < 10; i++)
            {
                node.Send(target, new Note(i));
            }

            gate.Set();
            await Eventually.Until(() => node.Statistics.MailboxDepth == 0, $"round {round}: the mailbox drains");
            Assert.Equal(4 * round, await node.Request(target, new CountNotes()).Within($"round {round}: the accepted notes are handled"));
            Assert.Equal(6 * round, node.Statistics.Dropped);
        }
    }

    [Fact]
    public async Task Spawn_CapacityBelowOne_IsRejected()
    {
        await using Node node = Node.Create();

        Assert.Throws<ArgumentException>(() => node.Spawn(() => new Probe(), new SpawnOptions { MailboxCapacity = 0 }));
        Assert.Throws<ArgumentException>(() => Node.Create(new NodeOptions { DefaultMailboxCapacity = 0 }));
    }

    [Fact]
    public async Task Mailbox_SystemMessagesBeyondCapacity_StillEndTheTarget()
    {
        await using Node node = Node.Create();
        var probe = new Probe();
        Address target = node.Spawn(() => probe, new SpawnOptions { MailboxCapacity = 1 });
        using var gate = new ManualResetEventSlim();
        await Hold(node, target, gate);
        node.Send(target, new Note(1)); // the mailbox is full now

        node.End(target); // control messages are not user messages: a full mailbox must not refuse them
        gate.Set();

        Assert.Equal("ended by the node", await probe.Ended.Task.Within("the full target ends"));
    }

    /// <summary>Blocks the target's handler on <paramref name="gate"/> and returns once it is inside, with an empty mailbox.</summary>
    internal static async Task Hold(Node node, Address target, ManualResetEventSlim gate)
    {
        TaskCompletionSource entered = Waits.NewSignal();
        node.Send(target, new Block(gate, entered));
        await entered.Task.Within("the target blocks in its handler");
    }

    private sealed class Listener(string topic) : Target, ITarget<Listener>
    {
        private int _notes;

        public int Notes => Volatile.Read(ref _notes);

        public static void Wire(Channels<Listener> channels) => channels
            .On<Note>(static (self, m, ctx) => Interlocked.Increment(ref self._notes))
            .On<Block>(static (self, m, ctx) =>
            {
                m.Entered.TrySetResult();
                m.Gate.Wait(TimeSpan.FromSeconds(60));
            });

        protected internal override void OnStarted(Context context) => context.Subscribe(topic);
    }

    private sealed record Hit(Address Self, bool SendOn);

    private sealed class Hammered : Target, ITarget<Hammered>
    {
        private long _handled;
        private long _selfSent;

        public volatile bool SendOn = true;

        public long Handled => Volatile.Read(ref _handled);

        public long SelfSent => Volatile.Read(ref _selfSent);

        public static void Wire(Channels<Hammered> channels) => channels
            .On<Hit>(static (self, m, ctx) =>
            {
                if (m.SendOn && self.SendOn)
                {
                    Interlocked.Increment(ref self._selfSent); // counted before the send, so "accepted" never runs ahead
                    ctx.Send(m.Self, new Hit(m.Self, SendOn: false));
                }

                Interlocked.Increment(ref self._handled);
            })
            .On<Block>(static (_, m, _) =>
            {
                m.Entered.TrySetResult();
                m.Gate.Wait(TimeSpan.FromSeconds(60));
            });
    }
}
