using Tether.Tests.TestSupport;

namespace Tether.Tests;

/// <summary>
/// Two targets bouncing messages as fast as they can: the pattern where a mailbox goes idle while the other side
/// pushes, over and over. A lost wake-up shows as a stall; every round must finish within its deadline.
/// (A store-load reordering when a mailbox went idle once stalled the ping-pong benchmark under heavy load; this
/// test guards the pattern, though that race is too narrow to reproduce on demand.)
/// </summary>
public sealed class WakeUpTests
{
    private sealed record Ball(int Left, Address Back);

    private static int s_balls;

    private sealed class Bouncer(TaskCompletionSource done) : Target, ITarget<Bouncer>
    {
        public static void Wire(Channels<Bouncer> channels) => channels.On<Ball>(static (self, m, ctx) =>
        {
            if (m.Left == 0)
            {
                self.Done();
                return;
            }

            ctx.Send(m.Back, new Ball(m.Left - 1, ctx.Self));
        });

        private void Done()
        {
            if (Interlocked.Decrement(ref s_balls) == 0)
            {
                done.TrySetResult();
            }
        }
    }

    [Fact]
    public async Task PingPong_ManyRoundsWithFewMessagesInFlight_NeverStalls()
    {
        await using Node node = Node.Create(new NodeOptions { Throughput = 1 });
        for (int round = 0; round < 40; round++)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Address a = node.Spawn(() => new Bouncer(done));
            Address b = node.Spawn(() => new Bouncer(done));
            Volatile.Write(ref s_balls, 4);
            for (int ball = 0; ball < 4; ball++)
            {
                node.Send(a, new Ball(10_000, b));
            }

            await done.Task.Within($"round {round}: 4 balls × 10,000 bounces between two mailboxes");
            node.End(a);
            node.End(b);
        }
    }

    private sealed record Spray(Address[] To, Address Back);

    private sealed record Hit(Address Back);

    private sealed record Hits(int Count);

    private sealed class Sprayer : Target, ITarget<Sprayer>
    {
        public static void Wire(Channels<Sprayer> channels) => channels.On<Spray>(static (_, m, ctx) =>
        {
            foreach (Address to in m.To)
            {
                ctx.Send(to, new Hit(m.Back)); // wakes far more targets in one run than are noted before a flush
            }
        });
    }

    private sealed class Bounce : Target, ITarget<Bounce>
    {
        public static void Wire(Channels<Bounce> channels) => channels.On<Hit>(static (_, m, ctx) => ctx.Send(m.Back, new Hits(1)));
    }

    private sealed class Tally(int expected, TaskCompletionSource done) : Target, ITarget<Tally>
    {
        private int _count;

        public static void Wire(Channels<Tally> channels) => channels.On<Hits>(static (self, m, _) => self.Add(m.Count));

        private void Add(int count)
        {
            _count += count;
            if (_count == expected)
            {
                done.TrySetResult();
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(1_000)]
    public async Task Send_OneRunWakesManyTargets_EveryOneRuns(int targets)
    {
        await using Node node = Node.Create();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Address tally = node.Spawn(() => new Tally(targets, done));
        Address[] bounces = [.. Enumerable.Range(0, targets).Select(_ => node.Spawn(() => new Bounce()))];

        node.Send(node.Spawn(() => new Sprayer()), new Spray(bounces, tally));

        await done.Task.Within($"all {targets} targets woken in one run answer");
    }
}
