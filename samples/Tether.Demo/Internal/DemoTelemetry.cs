using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Tether.Demo.Internal;

/// <summary>The demo's spans and metrics, named <see cref="DemoApp.TelemetryName"/> (add it to OpenTelemetry's sources and meters).</summary>
internal static class DemoTelemetry
{
    public static readonly ActivitySource Source = new(DemoApp.TelemetryName, "1.0");

    private static readonly Meter s_meter = new(DemoApp.TelemetryName, "1.0");

    public static readonly Counter<long> OrdersRecorded = s_meter.CreateCounter<long>("demo.orders.recorded", "{order}", "Orders the supplier recorded.");

    public static readonly Counter<long> OrdersRefused = s_meter.CreateCounter<long>("demo.orders.refused", "{order}", "Orders the supplier refused (out of stock, unknown product).");

    public static readonly Histogram<double> QueryDuration = s_meter.CreateHistogram<double>("demo.supplier.query.duration", "ms", "How long the supplier's database work for one message took.");
}
