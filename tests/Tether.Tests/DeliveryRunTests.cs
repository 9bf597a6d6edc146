using System.Collections.Concurrent;
using Tether.Internal;
using Tether.Tests.TestSupport;
using Tether.Transport;

namespace Tether.Tests;

/// <summary>
/// A transport unpacking a batch posts consecutive messages for one target as one chain (<see cref="DeliveryRun"/>):
/// the order, the bound and the unknown target must come out exactly as with one post per message.
/// </summary>
public sealed class DeliveryRunTests
{
    public static TheoryData<int> Rounds => [.. Enumerable.Range(1, 10)];

    [Theory]
    [MemberData(nameof(Rounds))]
    public async Task Deliver_RunsForTwoTargetsInterleavedWhileTheyRun_EachSequenceArrivesWholeAndInOrder(int round)
    {
        const int perTarget = 20_000;
        await using Node node = Node.Create();
        var first = new Sequence(perTarget);
        var second = new Sequence(perTarget);
        Address a = node.Spawn(() => first, new SpawnOptions { MailboxCapacity = perTarget });
        Address b = node.Spawn(() => second, new SpawnOptions { MailboxCapacity = perTarget });
        var random = new Random(round);

        // Runs of 1 to 100 messages per target (longer than a chain, so chains are cut), while both targets are running.
        var run = new DeliveryRun { Active = true };
        int nextA = 1;
        int nextB = 1;
        while (nextA <= perTarget || nextB <= perTarget)
        {
            bool toA = nextB > perTarget || (nextA <= perTarget && random.Next(2) == 0);
            for (int n = random.Next(1, 101); n > 0; n--)
            {
                if (toA && nextA <= perTarget)
                {
                    node.Deliver(ref run, default, a.Id, new Numbered(nextA++), Category.Send, null, default);
                }
                else if (!toA && nextB <= perTarget)
                {
                    node.Deliver(ref run, default, b.Id, new Numbered(nextB++), Category.Send, null, default);
                }
            }

            if (random.Next(8) == 0)
            {
                Node.Flush(ref run);
            }
        }

        Node.Flush(ref run);
        Assert.Equal(0, run.Count);
        await first.All.Task.Within($"round {round}: every message reaches the first target");
        await second.All.Task.Within($"round {round}: every message reaches the second target");
        Assert.Empty(first.Violations);
        Assert.Empty(second.Violations);
        Assert.Equal(0, node.Statistics.Dropped);
    }

    [Fact]
    public async Task Deliver_RunLongerThanTheRoomLeft_TakesTheFirstInOrderAndDropsTheRest()
    {
        await using Node node = Node.Create();
        using var gate = new ManualResetEventSlim();
        (Sequence probe, Address target) = await SpawnHeldWithRoomForTen(node, gate);

        var run = new DeliveryRun { Active = true };
        DeliverNumbered(node, ref run, target, 1, 4);
        Node.Flush(ref run); // 4 fit whole
        DeliverNumbered(node, ref run, target, 5, 25);
        Node.Flush(ref run); // 21 do not: one by one, 6 taken

        Assert.Equal(15, node.Statistics.Dropped);
        Assert.Equal(10, node.Statistics.MailboxDepth);
        gate.Set();
        await probe.All.Task.Within("the ten accepted messages are handled");
        Assert.Empty(probe.Violations);
        Assert.Equal(10, probe.Last);
    }

    [Fact]
    public async Task Deliver_UnknownTargetBetweenRuns_IsUndeliverableAndTheRunsAroundItArrive()
    {
        await using Node node = Node.Create();
        var probe = new Sequence(expected: 4);
        Address target = node.Spawn(() => probe);

        var run = new DeliveryRun { Active = true };
        node.Deliver(ref run, default, target.Id, new Numbered(1), Category.Send, null, default);
        node.Deliver(ref run, default, target.Id, new Numbered(2), Category.Send, null, default);
        node.Deliver(ref run, default, long.MaxValue, new Numbered(99), Category.Send, null, default);
        node.Deliver(ref run, default, target.Id, new Numbered(3), Category.Send, null, default);
        node.Deliver(ref run, default, target.Id, new Numbered(4), Category.Send, null, default);
        Node.Flush(ref run);

        await probe.All.Task.Within("the four messages to the live target are handled");
        Assert.Empty(probe.Violations);
        await Eventually.Until(() => node.Statistics.DeadLetters == 1, "the message to no target is a dead letter");
    }

    [Fact]
    public async Task Deliver_TargetEndedBeforeTheFlush_TheRunIsRejectedNotLost()
    {
        await using Node node = Node.Create();
        var probe = new Sequence(expected: 1);
        Address target = node.Spawn(() => probe);

        var run = new DeliveryRun { Active = true };
        node.Deliver(ref run, default, target.Id, new Numbered(1), Category.Send, null, default);
        node.Deliver(ref run, default, target.Id, new Numbered(2), Category.Send, null, default);
        int targets = node.Statistics.Targets;
        node.End(target);
        await Eventually.Until(() => node.Statistics.Targets == targets - 1, "the target ends");
        Node.Flush(ref run);

        await Eventually.Until(() => node.Statistics.DeadLetters == 2, "both messages of the run are dead letters");
        Assert.Equal(0, probe.Last);
    }

    [Fact]
    public async Task Deliver_RequestsInARunThatDoesNotFit_AreAnsweredMailboxFullAtOnce_WhatFitsIsTaken()
    {
        await using Node node = Node.Create();
        using var gate = new ManualResetEventSlim();
        (Sequence probe, Address target) = await SpawnHeldWithRoomForTen(node, gate);
        var run = new DeliveryRun { Active = true };
        DeliverNumbered(node, ref run, target, 1, 9);
        Node.Flush(ref run); // one place left
        var first = new PendingRequest<int>(node, typeof(Ask), target, TimeSpan.FromSeconds(20));
        var second = new PendingRequest<int>(node, typeof(Ask), target, TimeSpan.FromSeconds(20));
        node.Deliver(ref run, default, target.Id, new Numbered(10), Category.Send, null, default);
        node.Deliver(ref run, default, target.Id, new Ask(1), Category.Request, first, default);
        node.Deliver(ref run, default, target.Id, new Ask(2), Category.Request, second, default);
        Node.Flush(ref run);

        Assert.True(first.Task.IsCompleted && second.Task.IsCompleted, "requests refused by a full mailbox must fail at once, not at their deadline");
        await first.Task.FailsWith(ErrorCodes.MailboxFull, "the first request of the run that did not fit");
        await second.Task.FailsWith(ErrorCodes.MailboxFull, "the second request of the run that did not fit");
        Assert.Equal(10, node.Statistics.MailboxDepth);
        gate.Set();
        await probe.All.Task.Within("the ten sends that fitted are handled");
        Assert.Empty(probe.Violations);
    }

    /// <summary>A target with a mailbox of 10, blocked in its handler on <paramref name="gate"/>, its mailbox empty.</summary>
    private static async Task<(Sequence Probe, Address Target)> SpawnHeldWithRoomForTen(Node node, ManualResetEventSlim gate)
    {
        var probe = new Sequence(expected: 10);
        Address target = node.Spawn(() => probe, new SpawnOptions { MailboxCapacity = 10 });
        await MailboxTests.Hold(node, target, gate);
        return (probe, target);
    }

    /// <summary>Delivers <see cref="Numbered"/> <paramref name="first"/> to <paramref name="last"/> to <paramref name="target"/> in <paramref name="run"/>.</summary>
    private static void DeliverNumbered(Node node, ref DeliveryRun run, Address target, int first, int last)
    {
        for (int n = first; n <= last; n++)
        {
            node.Deliver(ref run, default, target.Id, new Numbered(n), Category.Send, null, default);
        }
    }

    private sealed record Numbered(int N);

    private sealed record Ask(int N) : IRequest<int>;

    private sealed class Sequence(int expected) : Target, ITarget<Sequence>
    {
        private int _last;

        public int Last => Volatile.Read(ref _last);

        public TaskCompletionSource All { get; } = Waits.NewSignal();

        public ConcurrentQueue<string> Violations { get; } = new();

        public static void Wire(Channels<Sequence> channels) => channels
            .On<Numbered>(static (self, m, _) => self.Take(m.N))
            .Request<Ask, int>(static (_, m, _) => m.N)
            .On<Block>(static (_, m, _) =>
            {
                m.Entered.TrySetResult();
                m.Gate.Wait();
            });

        private void Take(int n)
        {
            if (n != _last + 1)
            {
                Violations.Enqueue($"{n} after {_last}");
            }

            Volatile.Write(ref _last, n);
            if (n == expected)
            {
                All.TrySetResult();
            }
        }
    }
}
