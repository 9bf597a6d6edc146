using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Tether.Internal;

/// <summary>
/// The runtime's OpenTelemetry-compatible sources: traces on <see cref="ActivitySourceName"/> and metrics on
/// the meter of the same name. Both cost a flag check when nobody listens.
/// </summary>
internal static class Telemetry
{
    public const string ActivitySourceName = "Tether";

    public static readonly ActivitySource Source = new(ActivitySourceName, "1.0");

    private static readonly Meter s_meter = new(ActivitySourceName, "1.0");

    public static readonly Histogram<double> RequestDuration = s_meter.CreateHistogram<double>(
        "tether.request.duration", "ms", "Time from sending a request to its outcome.");

    public static Meter Meter => s_meter;

    /// <summary>
    /// The trace context a message takes along: the current span's while someone listens to <see cref="Source"/>, else
    /// none. <see cref="Activity.Current"/> is an async-local, read on every send; with nobody listening here, no handler
    /// span would be started from the context on this node anyway.
    /// </summary>
    public static ActivityContext CurrentTrace() => Source.HasListeners() && Activity.Current is { } current ? current.Context : default;

    /// <summary>
    /// A request's start for <see cref="RequestDuration"/>: the clock is read only while something listens to the
    /// histogram (a clock read per request otherwise, for nothing); 0 when nobody does.
    /// </summary>
    public static long RequestStart() => RequestDuration.Enabled ? Stopwatch.GetTimestamp() : 0;

    /// <summary>Records a request's duration from <paramref name="startTimestamp"/> (<see cref="RequestStart"/>); one
    /// that began before anything listened (a start of 0) is not recorded.</summary>
    public static void RecordRequest(long startTimestamp)
    {
        if (startTimestamp != 0 && RequestDuration.Enabled)
        {
            RequestDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds);
        }
    }

    public static Activity? StartRequest(Type requestType, Address to, string? service)
    {
        Activity? activity = Source.StartActivity("tether.request", ActivityKind.Client);
        if (activity is not null)
        {
            activity.DisplayName = $"request {requestType.Name}";
            activity.SetTag("tether.message_type", requestType.Name);
            activity.SetTag("tether.to", service is null ? to.ToString() : "service " + service);
        }

        return activity;
    }

    public static Activity? StartHandle(Envelope envelope, string targetType, Address self)
    {
        Activity? activity = Source.StartActivity("tether.handle", ActivityKind.Server, envelope.Trace);
        if (activity is not null)
        {
            activity.DisplayName = $"{targetType} handles {envelope.Payload.GetType().Name}";
            activity.SetTag("tether.message_type", envelope.Payload.GetType().Name);
            activity.SetTag("tether.target", self.ToString());
            activity.SetTag("tether.sender", envelope.Sender.ToString());
        }

        return activity;
    }
}
