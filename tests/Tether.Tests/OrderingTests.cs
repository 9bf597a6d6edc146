using System.Collections.Concurrent;
using Tether.Tests.TestSupport;

namespace Tether.Tests;

/// <summary>Messages from one sender to one receiver arrive in the order sent.</summary>
public sealed class OrderingTests
{
    private const int Senders = 8;
    private const int PerSender = 2_000;

    public static TheoryData<int> Rounds => [.. Enumerable.Range(1, 10)];

    [Theory]
    [MemberData(nameof(Rounds))]
    public async Task Send_ManySendersConcurrently_EachSendersSequenceArrivesInOrder(int round)
    {
        await using Node node = Node.Create();
        var receiver = new Receiver(Senders * PerSender);
        Address receiverAddress = node.Spawn(() => receiver, new SpawnOptions { MailboxCapacity = Senders * PerSender });
        Address[] senders = [.. Enumerable.Range(0, Senders).Select(_ => node.Spawn(() => new Sender()))];

        // Half the senders send in one turn, half yield between sends so their sequence spans many turns.
        for (int i = 0; i < senders.Length; i++)
        {
            node.Send(senders[i], new Go(receiverAddress, PerSender, YieldEvery: i % 2 == 0 ? 0 : 1 + round));
        }

        await receiver.AllArrived.Task.Within($"round {round}: all {Senders * PerSender} numbered messages arrive");
        Assert.Empty(receiver.Violations);
        Assert.Equal(Senders, receiver.LastSeen.Count);
        Assert.All(senders, s => Assert.Equal(PerSender, receiver.LastSeen[s]));
        Assert.Equal(0, node.Statistics.Dropped);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Send_FromOutsideThreadsConcurrently_EachThreadsSequenceArrivesInOrder(int round)
    {
        const int threads = 4;
        await using Node node = Node.Create();
        var receiver = new Receiver(threads * PerSender);
        Address receiverAddress = node.Spawn(() => receiver, new SpawnOptions { MailboxCapacity = threads * PerSender });

        // From outside every sender is Address.None, so the message names its stream.
        await Task.WhenAll(Enumerable.Range(0, threads).Select(t => Task.Run(() =>
        {
            for (int n = 1; n <= PerSender; n++)
            {
                node.Send(receiverAddress, new Numbered(t, n));
            }
        }))).Within($"round {round}: the threads send");

        await receiver.AllArrived.Task.Within($"round {round}: all numbered messages arrive");
        Assert.Empty(receiver.Violations);
        Assert.Equal(threads, receiver.LastByStream.Count);
        Assert.All(receiver.LastByStream.Values, last => Assert.Equal(PerSender, last));
    }

    [Fact]
    public async Task Send_ThenRequestFromSameSender_RequestSeesAllEarlierSends()
    {
        await using Node node = Node.Create();
        Address probe = node.Spawn(() => new Probe());

        for (int round = 1; round <= 20; round++)
        {
            for (int i = 0; i < 100; i++)
            {
                node.Send(probe, new Note(i));
            }

            // The request is queued behind the sends from the same sender, so it must see all of them handled.
            int counted = await node.Request(probe, new CountNotes()).Within($"round {round}: the count request is answered");
            Assert.Equal(round * 100, counted);
        }
    }

    private sealed record Go(Address To, int Count, int YieldEvery);

    private sealed record Numbered(int Stream, int N);

    private sealed class Sender : Target, ITarget<Sender>
    {
        public static void Wire(Channels<Sender> channels) => channels
            .OnAsync<Go>(static async (self, m, ctx) =>
            {
                for (int n = 1; n <= m.Count; n++)
                {
                    ctx.Send(m.To, new Numbered(0, n));
                    if (m.YieldEvery > 0 && n % m.YieldEvery == 0)
                    {
                        await Task.Yield(); // the rest runs as a later turn of this sender
                    }
                }
            });
    }

    private sealed class Receiver(int expected) : Target, ITarget<Receiver>
    {
        private int _arrived;

        public TaskCompletionSource AllArrived { get; } = Waits.NewSignal();

        public ConcurrentDictionary<Address, int> LastSeen { get; } = new();

        public Dictionary<int, int> LastByStream { get; } = [];

        public ConcurrentQueue<string> Violations { get; } = new();

        public static void Wire(Channels<Receiver> channels) => channels
            .On<Numbered>(static (self, m, ctx) => self.Take(ctx.Sender, m));

        private void Take(Address sender, Numbered m)
        {
            if (sender.IsNone)
            {
                int last = LastByStream.GetValueOrDefault(m.Stream);
                if (m.N != last + 1)
                {
                    Violations.Enqueue($"stream {m.Stream}: {m.N} after {last}");
                }

                LastByStream[m.Stream] = m.N;
            }
            else
            {
                int last = LastSeen.GetValueOrDefault(sender);
                if (m.N != last + 1)
                {
                    Violations.Enqueue($"{sender}: {m.N} after {last}");
                }

                LastSeen[sender] = m.N;
            }

            if (++_arrived == expected)
            {
                AllArrived.TrySetResult();
            }
        }
    }
}
