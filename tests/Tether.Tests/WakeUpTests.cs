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
}
