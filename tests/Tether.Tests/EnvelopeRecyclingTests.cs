using System.Collections.Concurrent;
using Tether.Tests.TestSupport;

namespace Tether.Tests;

/// <summary>
/// Envelopes are recycled once handled. These tests would catch an envelope reused while something still
/// reads it: a wrong sender, a lost or doubled message, a reply that reaches the wrong requester.
/// </summary>
public sealed class EnvelopeRecyclingTests
{
    public static TheoryData<int> Rounds => [.. Enumerable.Range(1, 8)];

    [Theory]
    [MemberData(nameof(Rounds))]
    public async Task Send_ManySendersToManyReceivers_EverySenderIsRightAndNothingIsLostOrDoubled(int round)
    {
        const int senders = 6;
        const int receivers = 4;
        const int perPair = 3_000;
        await using Node node = Node.Create();
        var tally = new Tally(senders * receivers * perPair);
        Address[] sinks = [.. Enumerable.Range(0, receivers).Select(_ => node.Spawn(() => new Checker(tally), new SpawnOptions { MailboxCapacity = senders * perPair }))];
        Address[] sources = [.. Enumerable.Range(0, senders).Select(_ => node.Spawn(() => new Blaster()))];

        foreach (Address source in sources)
        {
            node.Send(source, new Blast(sinks, perPair));
        }

        await tally.Done.Task.Within($"round {round}: every stamped message arrives");
        Assert.Empty(tally.Violations);
        Assert.Equal(senders * receivers * perPair, tally.Count);
        Assert.Equal(0, node.Statistics.Dropped);
    }

    [Theory]
    [MemberData(nameof(Rounds))]
    public async Task AsyncHandler_WhileOtherMessagesFlow_KeepsItsSenderAndAnswersItsOwnRequester(int round)
    {
        const int callers = 8;
        const int perCaller = 200;
        await using Node node = Node.Create();
        Address echo = node.Spawn(() => new SlowEcho());
        Address[] callerAddresses = [.. Enumerable.Range(0, callers).Select(_ => node.Spawn(() => new Caller()))];

        // Each caller's requests are answered with the sender the async handler saw after its await.
        int[] wrong = await Task.WhenAll(callerAddresses.Select(c => node.Request(c, new CallMany(echo, perCaller)).AsTask()))
            .Within($"round {round}: every caller gets all its answers");

        Assert.All(wrong, w => Assert.Equal(0, w));
        Assert.Equal(0, node.Statistics.PendingRequests);
    }

    [Fact]
    public async Task Context_KeptAfterItsHandlerReturned_StillNamesTheSenderOfItsMessage()
    {
        await using Node node = Node.Create();
        var keeper = new ContextKeeper();
        Address target = node.Spawn(() => keeper);
        Address first = node.Spawn(() => new Blaster());
        Address second = node.Spawn(() => new Blaster());

        node.Send(first, new Blast([target], 1));
        await keeper.Kept.Task.Within("the first stamped message is handled");

        // Many more messages through the same node: the first handler's envelope is long recycled.
        node.Send(second, new Blast([target], 5_000));
        await keeper.AllSeen.Task.Within("the later messages are handled");

        Assert.Equal(first, keeper.KeptContext.Sender);
    }

    private sealed record Stamp(Address From, int Sequence);

    private sealed record Blast(Address[] To, int Count);

    private sealed class Blaster : Target, ITarget<Blaster>
    {
        public static void Wire(Channels<Blaster> channels) => channels.On<Blast>(static (_, m, ctx) =>
        {
            for (int n = 1; n <= m.Count; n++)
            {
                foreach (Address to in m.To)
                {
                    ctx.Send(to, new Stamp(ctx.Self, n));
                }
            }
        });
    }

    private sealed class Tally(int expected)
    {
        private int _count;

        public ConcurrentQueue<string> Violations { get; } = new();

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Count => Volatile.Read(ref _count);

        public void Add()
        {
            int count = Interlocked.Increment(ref _count);
            if (count == expected)
            {
                Done.TrySetResult();
            }
            else if (count > expected)
            {
                Violations.Enqueue($"message {count} of {expected}: more arrived than were sent");
            }
        }
    }

    private sealed class Checker(Tally tally) : Target, ITarget<Checker>
    {
        private readonly Dictionary<Address, int> _last = [];

        public static void Wire(Channels<Checker> channels) => channels.On<Stamp>(static (self, m, ctx) =>
        {
            if (ctx.Sender != m.From)
            {
                self.Tally.Violations.Enqueue($"stamp from {m.From} #{m.Sequence} arrived with sender {ctx.Sender}");
            }

            int last = self._last.GetValueOrDefault(m.From);
            if (m.Sequence != last + 1)
            {
                self.Tally.Violations.Enqueue($"from {m.From}: #{m.Sequence} after #{last}");
            }

            self._last[m.From] = m.Sequence;
            self.Tally.Add();
        });

        private Tally Tally => tally;
    }

    private sealed record Echo(Address Caller) : IRequest<Address>;

    private sealed class SlowEcho : Target, ITarget<SlowEcho>
    {
        public static void Wire(Channels<SlowEcho> channels) => channels
            .RequestAsync<Echo, Address>(static async (_, m, ctx) =>
            {
                await Task.Yield();
                await Task.Delay(1);
                return ctx.Sender; // read after the awaits: the envelope must still be this request's
            });
    }

    private sealed record CallMany(Address Echo, int Count) : IRequest<int>;

    private sealed class Caller : Target, ITarget<Caller>
    {
        public static void Wire(Channels<Caller> channels) => channels
            .RequestAsync<CallMany, int>(static async (_, m, ctx) =>
            {
                int wrong = 0;
                var pending = new ValueTask<Address>[m.Count];
                for (int i = 0; i < m.Count; i++)
                {
                    pending[i] = ctx.Request(m.Echo, new Echo(ctx.Self));
                }

                foreach (ValueTask<Address> answer in pending)
                {
                    if (await answer != ctx.Self)
                    {
                        wrong++;
                    }
                }

                return wrong;
            });
    }

    private sealed class ContextKeeper : Target, ITarget<ContextKeeper>
    {
        private int _seen;

        public Context KeptContext { get; private set; }

        public TaskCompletionSource Kept { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource AllSeen { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public static void Wire(Channels<ContextKeeper> channels) => channels.On<Stamp>(static (self, _, ctx) =>
        {
            if (++self._seen == 1)
            {
                self.KeptContext = ctx;
                self.Kept.TrySetResult();
            }
            else if (self._seen == 5_001)
            {
                self.AllSeen.TrySetResult();
            }
        });
    }
}
