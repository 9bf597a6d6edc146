using System.Collections.Concurrent;
using Tether.Tests.TestSupport;

namespace Tether.Tests;

/// <summary>
/// A handler's sends to local targets wait in its run and leave as chains (one atomic for the bound per chain): what a
/// sender and its receivers can see must not change. Order per sender, across other output channels (requests, ends) and
/// interleaved receivers; the exact bound; sends to itself.
/// </summary>
public sealed class HandlerSendChainTests
{
    public static TheoryData<int> Rounds => [.. Enumerable.Range(1, 5)];

    [Theory]
    [MemberData(nameof(Rounds))]
    public async Task Send_InterleavedToTwoReceiversInRunsOfManyLengths_EachReceiverSeesItsSequenceInOrder(int round)
    {
        const int perReceiver = 3_000;
        await using Node node = Node.Create();
        var first = new Receiver(perReceiver);
        var second = new Receiver(perReceiver);
        Address a = node.Spawn(() => first, new SpawnOptions { MailboxCapacity = perReceiver });
        Address b = node.Spawn(() => second, new SpawnOptions { MailboxCapacity = perReceiver });
        Address sender = node.Spawn(() => new Interleaver());

        // Runs of 1 to 70 (past the chain's 32), alternating receivers, in one handler and across several turns.
        node.Send(sender, new Interleave(a, b, perReceiver, Seed: round));

        await first.AllArrived.Task.Within($"round {round}: the first receiver gets all {perReceiver}");
        await second.AllArrived.Task.Within($"round {round}: the second receiver gets all {perReceiver}");
        Assert.Empty(first.Violations);
        Assert.Empty(second.Violations);
        Assert.Equal(0, node.Statistics.Dropped);
    }

    [Theory]
    [MemberData(nameof(Rounds))]
    public async Task SendThenRequest_FromOneHandler_TheRequestSeesEverySendBeforeIt(int round)
    {
        await using Node node = Node.Create();
        var probe = new Probe();
        Address target = node.Spawn(() => probe);
        Address asker = node.Spawn(() => new SendThenAsk());

        int seen = await node.Request(asker, new SendAndCount(target, 100 * round)).Within($"round {round}: the asker answers");

        Assert.Equal(100 * round, seen);
    }

    [Fact]
    public async Task SendThenEnd_FromOneHandler_TheTargetHandlesEverySendBeforeItEnds()
    {
        await using Node node = Node.Create();
        var counter = new EndCounter();
        Address ender = node.Spawn(() => new SendThenEnd());

        node.Send(ender, new SpawnSendEnd(counter, 250));

        Assert.Equal(250, await counter.NotesAtEnd.Task.Within("the target ends after the 250 notes sent before the end"));
    }

    [Theory]
    [MemberData(nameof(Rounds))]
    public async Task Send_FromAHandlerIntoAFullMailbox_TakesExactlyItsCapacityTheFirstInOrder(int round)
    {
        const int capacity = 10;
        await using Node node = Node.Create();
        var receiver = new Receiver(capacity);
        Address target = node.Spawn(() => receiver, new SpawnOptions { MailboxCapacity = capacity });
        using var gate = new ManualResetEventSlim();
        TaskCompletionSource entered = Waits.NewSignal();
        node.Send(target, new Block(gate, entered));
        await entered.Task.Within($"round {round}: the receiver blocks in its handler");
        Address sender = node.Spawn(() => new Interleaver());

        int sent = await node.Request(sender, new SendNumbered(target, 50 + round)).Within($"round {round}: the sender's handler runs");

        Assert.Equal(50 + round, sent);
        await Eventually.Until(() => node.Statistics.Dropped == 40 + round, $"round {round}: all but the mailbox's {capacity} are dropped");
        Assert.Equal(capacity, node.Statistics.MailboxDepth);
        gate.Set();
        await receiver.AllArrived.Task.Within($"round {round}: the {capacity} accepted arrive");
        Assert.Empty(receiver.Violations); // 1..10: the first ones sent are the ones taken
        Assert.Equal(capacity, receiver.LastSeen.Values.Single());
    }

    [Theory]
    [MemberData(nameof(Rounds))]
    public async Task Send_ToItselfManyTimesInOneHandler_ArrivesWholeAndInOrder(int round)
    {
        await using Node node = Node.Create();
        var self = new SelfSender(1_000 * round);
        node.Spawn(() => self);

        await self.Done.Task.Within($"round {round}: all {1_000 * round} self-sent messages arrive");
        Assert.Empty(self.Violations);
    }

    private sealed record Interleave(Address A, Address B, int PerReceiver, int Seed);

    private sealed record SendNumbered(Address To, int Count) : IRequest<int>;

    private sealed record Numbered(int N);

    private sealed record SendAndCount(Address To, int Count) : IRequest<int>;

    private sealed record SpawnSendEnd(EndCounter Counter, int Count);

    private sealed record Next(int N);

    private sealed class Interleaver : Target, ITarget<Interleaver>
    {
        public static void Wire(Channels<Interleaver> channels) => channels
            .OnAsync<Interleave>(static async (self, m, ctx) =>
            {
                var random = new Random(m.Seed);
                int sentA = 0;
                int sentB = 0;
                bool toA = true;
                int turns = 0;
                while (sentA < m.PerReceiver || sentB < m.PerReceiver)
                {
                    int run = random.Next(1, 71);
                    for (int i = 0; i < run; i++)
                    {
                        if (toA && sentA < m.PerReceiver)
                        {
                            ctx.Send(m.A, new Numbered(++sentA));
                        }
                        else if (!toA && sentB < m.PerReceiver)
                        {
                            ctx.Send(m.B, new Numbered(++sentB));
                        }
                    }

                    toA = !toA;
                    if (++turns % 7 == 0)
                    {
                        await Task.Yield(); // the rest as a later turn of this sender
                    }
                }
            })
            .Request<SendNumbered, int>(static (self, m, ctx) =>
            {
                for (int n = 1; n <= m.Count; n++)
                {
                    ctx.Send(m.To, new Numbered(n));
                }

                return m.Count;
            });
    }

    private sealed class SendThenAsk : Target, ITarget<SendThenAsk>
    {
        public static void Wire(Channels<SendThenAsk> channels) => channels
            .RequestAsync<SendAndCount, int>(static async (self, m, ctx) =>
            {
                for (int i = 0; i < m.Count; i++)
                {
                    ctx.Send(m.To, new Note(i));
                }

                return await ctx.Request(m.To, new CountNotes());
            });
    }

    private sealed class EndCounter : Target, ITarget<EndCounter>
    {
        private int _notes;

        public TaskCompletionSource<int> NotesAtEnd { get; } = Waits.NewSignal<int>();

        public static void Wire(Channels<EndCounter> channels) => channels
            .On<Note>(static (self, m, ctx) => self._notes++);

        protected internal override void OnEnded(Context context, string reason) => NotesAtEnd.TrySetResult(_notes);
    }

    private sealed class SendThenEnd : Target, ITarget<SendThenEnd>
    {
        public static void Wire(Channels<SendThenEnd> channels) => channels
            .On<SpawnSendEnd>(static (self, m, ctx) =>
            {
                Address child = ctx.Spawn(() => m.Counter);
                for (int i = 0; i < m.Count; i++)
                {
                    ctx.Send(child, new Note(i));
                }

                ctx.End(child);
            });
    }

    private sealed class SelfSender(int count) : Target, ITarget<SelfSender>
    {
        private readonly int _count = count;
        private int _last;

        public TaskCompletionSource Done { get; } = Waits.NewSignal();

        public ConcurrentQueue<string> Violations { get; } = new();

        public static void Wire(Channels<SelfSender> channels) => channels
            .On<Next>(static (self, m, ctx) =>
            {
                if (m.N != self._last + 1)
                {
                    self.Violations.Enqueue($"{m.N} after {self._last}");
                }

                self._last = m.N;
                if (m.N == self._count)
                {
                    self.Done.TrySetResult();
                }
                else if (m.N % 100 == 0)
                {
                    // Every hundredth sends the next hundred to itself, in one handler.
                    for (int n = m.N + 1; n <= Math.Min(m.N + 100, self._count); n++)
                    {
                        ctx.Send(ctx.Self, new Next(n));
                    }
                }
            });

        protected internal override void OnStarted(Context context)
        {
            for (int n = 1; n <= 100; n++)
            {
                context.Send(context.Self, new Next(n));
            }
        }
    }

    private sealed class Receiver(int expected) : Target, ITarget<Receiver>
    {
        private readonly int _expected = expected;
        private int _arrived;

        public TaskCompletionSource AllArrived { get; } = Waits.NewSignal();

        public ConcurrentDictionary<Address, int> LastSeen { get; } = new();

        public ConcurrentQueue<string> Violations { get; } = new();

        public static void Wire(Channels<Receiver> channels) => channels
            .On<Numbered>(static (self, m, ctx) =>
            {
                int last = self.LastSeen.GetValueOrDefault(ctx.Sender);
                if (m.N != last + 1)
                {
                    self.Violations.Enqueue($"{ctx.Sender}: {m.N} after {last}");
                }

                self.LastSeen[ctx.Sender] = m.N;
                if (++self._arrived == self._expected)
                {
                    self.AllArrived.TrySetResult();
                }
            })
            .On<Block>(static (self, m, ctx) =>
            {
                m.Entered.TrySetResult();
                if (!m.Gate.Wait(TimeSpan.FromSeconds(60)))
                {
                    throw new TimeoutException("The test never opened the gate.");
                }
            });
    }
}
