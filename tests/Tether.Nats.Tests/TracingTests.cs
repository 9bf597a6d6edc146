using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Microsoft.Extensions.Hosting;

namespace Tether.Nats.Tests;

public sealed class TracingTests
{
    [Fact]
    public async Task Request_AcrossThreeNodes_IsOneTraceWithASpanPerHop()
    {
        var spans = new List<Activity>();
        using TracerProvider tracing = Sdk.CreateTracerProviderBuilder()
            .AddTetherInstrumentation()
            .AddInMemoryExporter(spans)
            .Build()!;

        await using Cluster cluster = await Cluster.StartAsync();
        (Node alpha, _) = await cluster.AddNodeAsync("alpha");
        (Node beta, _) = await cluster.AddNodeAsync("beta");
        (Node gamma, _) = await cluster.AddNodeAsync("gamma");
        Address echo = new("gamma", gamma.Spawn(() => new Echo()).Id);
        Address relay = new("beta", beta.Spawn(() => new Relayer()).Id);

        using var source = new ActivitySource("Tether.Tests");
        using var listener = new ActivityListener { ShouldListenTo = s => s.Name == "Tether.Tests", Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded };
        ActivitySource.AddActivityListener(listener);
        ActivityTraceId traceId;
        using (Activity root = source.StartActivity("test root")!)
        {
            traceId = root.TraceId;
            Assert.Equal("relayed echo x from gamma", await alpha.Request(relay, new Relay(echo, "x")).AsTask().WaitAsync(TimeSpan.FromSeconds(15))); // a hang guard only
        }

        // A handler's span ends just after its answer leaves: wait (with a deadline) for all four to be exported.
        long waiting = Stopwatch.GetTimestamp();
        Activity[] ours;
        while (true)
        {
            tracing.ForceFlush();
            lock (spans)
            {
                ours = spans.Where(s => s.TraceId == traceId && s.Source.Name == Node.TelemetryName).ToArray();
            }

            if (ours.Length >= 4)
            {
                break;
            }

            // A hang guard only: the claim is one trace across nodes, not the exporter's speed.
            Assert.True(Stopwatch.GetElapsedTime(waiting) < TimeSpan.FromSeconds(10), $"only {ours.Length} of 4 spans were exported");
            await Task.Delay(10); // polling a condition with a deadline
        }

        Activity alphaRequest = Assert.Single(ours, s => s.OperationName == "tether.request" && (string?)s.GetTagItem("tether.to") == relay.ToString());
        Activity betaHandle = Assert.Single(ours, s => s.OperationName == "tether.handle" && (string?)s.GetTagItem("tether.target") == relay.ToString());
        Activity betaRequest = Assert.Single(ours, s => s.OperationName == "tether.request" && (string?)s.GetTagItem("tether.to") == echo.ToString());
        Activity gammaHandle = Assert.Single(ours, s => s.OperationName == "tether.handle" && (string?)s.GetTagItem("tether.target") == echo.ToString());

        Assert.Equal(alphaRequest.SpanId, betaHandle.ParentSpanId);
        Assert.Equal(betaHandle.SpanId, betaRequest.ParentSpanId);
        Assert.Equal(betaRequest.SpanId, gammaHandle.ParentSpanId);
        Assert.Equal(ActivityKind.Client, alphaRequest.Kind);
        Assert.Equal(ActivityKind.Server, gammaHandle.Kind);
    }
}
