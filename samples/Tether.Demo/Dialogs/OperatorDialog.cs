using System.Globalization;
using Tether.Nats;
using Tether.Skin;

namespace Tether.Demo.Dialogs;

/// <summary>
/// The system itself, live, sampled every second: the nodes (the broker proxy's peers when NATS is attached, else this
/// node), the demo's services with the latency the router learned per instance, this node's targets, mailbox depth,
/// pending requests and dead letters from <see cref="Node.Statistics"/>, and a chart of the message rate (frames per
/// second through the broker proxy when attached, else the change of the node's target count).
/// </summary>
/// <param name="broker">The node's broker proxy, or null when the demo runs embedded.</param>
public sealed class OperatorDialog(BrokerProxy? broker) : Dialog, ITarget<OperatorDialog>
{
    private const int Samples = 60;
    private static readonly string[] s_services = [DemoApp.SupplierService, DemoApp.OrdersService, DemoApp.SessionsService];
    private readonly BrokerProxy? _broker = broker;
    private readonly List<double> _rates = [];
    private long _lastFrames = -1;
    private IDisposable? _timer;

    /// <summary>Wires the dialog's channels and its one-second sampling tick.</summary>
    public static void Wire(Channels<OperatorDialog> channels) => channels
        .Dialog()
        .On<Tick>(static (self, _, ctx) => self.Sample(ctx));

    /// <inheritdoc />
    protected override void OnOpened(Context ctx) => _timer = ctx.ScheduleEvery(TimeSpan.FromSeconds(1), new Tick());

    /// <inheritdoc />
    protected override void OnClosed(Context ctx, string reason) => _timer?.Dispose();

    /// <inheritdoc />
    protected override ValueTask OnMountAsync(DialogMount mount, Context ctx)
    {
        Render(ctx, View.Stack("root",
            View.Heading("title", "Operator"),
            Nodes(ctx),
            Services(),
            Stats(ctx),
            Chart(),
            View.Button("close", "Close")));
        return default;
    }

    /// <inheritdoc />
    protected override ValueTask OnEventAsync(UiEvent e, Context ctx)
    {
        if (e is { Kind: "click", Key: "close" })
        {
            Close(ctx);
        }

        return default;
    }

    private void Sample(Context ctx)
    {
        double rate;
        if (_broker is not null)
        {
            BrokerStatistics b = _broker.Statistics;
            long frames = b.FramesSent + b.FramesReceived;
            rate = _lastFrames < 0 ? 0 : frames - _lastFrames;
            _lastFrames = frames;
        }
        else
        {
            long targets = ctx.Node.Statistics.Targets;
            rate = _lastFrames < 0 ? 0 : Math.Abs(targets - _lastFrames);
            _lastFrames = targets;
        }

        _rates.Add(rate);
        if (_rates.Count > Samples)
        {
            _rates.RemoveAt(0);
        }

        Patch(ctx, new ViewPatch().Replace(Nodes(ctx)).Replace(Services()).Replace(Stats(ctx)).Replace(Chart()));
    }

    private ViewNode Nodes(Context ctx)
    {
        IEnumerable<string> names = _broker is null ? [ctx.Node.Name] : [ctx.Node.Name, .. _broker.Peers.Order(StringComparer.Ordinal)];
        return View.Table("nodes", ["Node", "Seen from"], names.Select(n => View.Row("node-" + n, n, n == ctx.Node.Name ? "this node" : "NATS peer")));
    }

    private ViewNode Services()
    {
        var rows = new List<ViewNode>();
        foreach (string service in s_services)
        {
            IReadOnlyDictionary<Tether.Address, double> latencies = _broker?.Latencies(service) ?? new Dictionary<Tether.Address, double>();
            if (latencies.Count == 0)
            {
                rows.Add(View.Row("svc-" + service, service, _broker is null ? "local" : "(no remote instance measured)", ""));
            }

            foreach ((Tether.Address instance, double ms) in latencies)
            {
                rows.Add(View.Row($"svc-{service}-{instance}", service, instance.ToString(), ms.ToString("0.0", CultureInfo.InvariantCulture) + " ms"));
            }
        }

        return View.Table("services", ["Service", "Instance", "Learned latency"], rows);
    }

    private static ViewNode Stats(Context ctx)
    {
        NodeStatistics s = ctx.Node.Statistics;
        return View.Table("stats", ["Statistic", "Value"],
        [
            View.Row("st-targets", "Targets", s.Targets.ToString(CultureInfo.InvariantCulture)),
            View.Row("st-depth", "Mailbox depth (all)", s.MailboxDepth.ToString(CultureInfo.InvariantCulture)),
            View.Row("st-pending", "Pending requests", s.PendingRequests.ToString(CultureInfo.InvariantCulture)),
            View.Row("st-dead", "Dead letters", s.DeadLetters.ToString(CultureInfo.InvariantCulture)),
            View.Row("st-dialogs", "Live dialogs", LiveOn(ctx.Node).ToString(CultureInfo.InvariantCulture)),
        ]);
    }

    private ViewNode Chart() => View.Chart("rates", _broker is null ? "Targets started or ended per second" : "NATS frames per second", _rates);

    /// <summary>The sampling tick.</summary>
    private sealed record Tick;
}
