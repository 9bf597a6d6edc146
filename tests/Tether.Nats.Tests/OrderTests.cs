using System.Diagnostics;

namespace Tether.Nats.Tests;

/// <summary>DESIGN §2: messages from one sender to one receiver arrive in the order sent, remotely too, across a broker restart.</summary>
public sealed class OrderTests
{
    // A hang guard only, never a timed claim: each wait ends as soon as its condition holds (generous: these tests share
    // 2 cores with other builds). Claims are asserted against their own bounds, named where they are checked.
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);

    public sealed record GetProgress : IRequest<string>;

    /// <summary>Records the sequence numbers of <see cref="Numbered"/> messages: how many, the highest, and every one that did not increase.</summary>
    public sealed class SequenceCheck : Target, ITarget<SequenceCheck>
    {
        private int _received;
        private int _highest = -1;
        private readonly List<string> _violations = [];

        public static void Wire(Channels<SequenceCheck> channels) => channels
            .On<Numbered>(static (self, m, _) => self.Record(m.Seq))
            .Request<GetProgress, string>(static (self, _, _) => $"{self._received} {self._highest} {string.Join(",", self._violations)}");

        private void Record(int seq)
        {
            if (seq <= _highest)
            {
                _violations.Add($"{seq} after {_highest}"); // a gap is allowed (at most once); going back is not
            }

            _highest = Math.Max(_highest, seq);
            _received++;
        }
    }

    [Fact]
    public async Task BrokerRestart_MessagesFromOneSenderKeepTheirOrder()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, _) = await cluster.AddNodeAsync("alpha");
        (Node b, _) = await cluster.AddNodeAsync("beta");
        Address check = new("beta", b.Spawn(() => new SequenceCheck()).Id);
        await cluster.MeshedAsync();

        int next = 0;
        using var stop = new CancellationTokenSource();
        Task sender = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                for (int i = 0; i < 50; i++)
                {
                    a.Send(check, new Numbered("alpha", Volatile.Read(ref next)));
                    Interlocked.Increment(ref next);
                }

                if ((await Progress(a, check)).Received < 0)
                {
                    // The broker is down, or beta was declared lost (an outage longer than the failure timeout): the
                    // request failed at once. Back off instead of spinning; this paces the load, it synchronises nothing.
                    await Task.Delay(10);
                }
            }
        });

        await Until(async () => (await Progress(a, check)).Received >= 1_000, "a thousand messages before the restart");
        int receivedBeforeRestart = (await Progress(a, check)).Received;
        cluster.Server.Kill();
        int sentBeforeRestart = Volatile.Read(ref next);
        await cluster.Server.RestartAsync();
        await Until(async () => (await Progress(a, check)).Received >= receivedBeforeRestart + 1_000, "a thousand more messages received after the restart");
        await stop.CancelAsync();
        await sender.WaitAsync(s_wait);

        (int received, int highest, string violations) = await Progress(a, check);
        Assert.True(violations.Length == 0, $"out of order after the restart: {violations}");
        Assert.True(highest >= sentBeforeRestart, $"nothing sent after the broker went down arrived (highest {highest}, {sentBeforeRestart} sent before)");
        Assert.True(received >= receivedBeforeRestart + 1_000, $"received {received}, {receivedBeforeRestart} before the restart");
    }

    private static async Task<(int Received, int Highest, string Violations)> Progress(Node from, Address check)
    {
        try
        {
            string[] parts = (await from.Request(check, new GetProgress(), TimeSpan.FromSeconds(1)) /* one poll's hang guard; the loop retries */).Split(' ', 3);
            return (int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), parts[2]);
        }
        catch (TetherException)
        {
            return (-1, -1, string.Empty); // the broker is down or not yet back
        }
    }

    private static Task Until(Func<Task<bool>> condition, string phase) => Eventually.Until(condition, phase, s_wait);
}
