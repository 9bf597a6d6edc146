using System.Collections.Concurrent;
using System.Net;
using Tether.Testing;

namespace Tether.Pods.Tests;

/// <summary>`tether node --http`: /healthz, /readyz, /metrics, and OTLP export, on a real node process.</summary>
[Collection(PodsCollection.Name)]
public sealed class NodeHttpTests
{
    private static readonly HttpClient s_http = new() { Timeout = TimeSpan.FromSeconds(5) };

    private static async Task<(HttpStatusCode Status, string Body)> GetAsync(int port, string path)
    {
        try
        {
            using HttpResponseMessage response = await s_http.GetAsync(new Uri($"http://127.0.0.1:{port}{path}"));
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        catch (HttpRequestException)
        {
            return (0, "(no connection)");
        }
    }

    private static async Task<(HttpStatusCode Status, string Body)> UntilStatusAsync(int port, string path, HttpStatusCode status, TimeSpan deadline, CliProcess node)
    {
        (HttpStatusCode, string) last = default;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        while (System.Diagnostics.Stopwatch.GetElapsedTime(start) < deadline)
        {
            last = await GetAsync(port, path);
            if (last.Item1 == status)
            {
                return last;
            }

            await Task.Delay(50); // polling an endpoint with a deadline
        }

        throw new Xunit.Sdk.XunitException($"GET {path} did not answer {(int)status} within {deadline.TotalSeconds} s (last: {(int)last.Item1} {last.Item2}); node output:\n{node.Output}");
    }

    [Fact]
    public async Task Readyz_FollowsTheBrokerConnection_HealthzStaysLive_MetricsArePrometheusText()
    {
        using NatsServer server = await NatsServer.StartAsync();
        int port = NatsServer.FreePort();
        using var node = new CliProcess(
            ["node", "--name", "http-1", "--nats", server.Url, "--http", $"127.0.0.1:{port}", "--module", typeof(PodsModule).Assembly.Location],
            new Dictionary<string, string> { ["Tether__Demo__Roles"] = "web" });

        (_, string ready) = await UntilStatusAsync(port, "/readyz", HttpStatusCode.OK, TimeSpan.FromSeconds(60), node);
        Assert.Contains("http-1", ready, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(port, "/healthz")).Status);

        (HttpStatusCode status, string metrics) = await GetAsync(port, "/metrics");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("# TYPE tether_targets gauge", metrics, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^tether_targets\{[^}]*tether_node=""http-1""[^}]*\} [1-9]", metrics); // the module's targets

        // The broker goes away: not ready (503), still live; it comes back: ready again.
        server.Kill();
        (_, string notReady) = await UntilStatusAsync(port, "/readyz", HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(20), node);
        Assert.Contains("lost its NATS connection", notReady, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(port, "/healthz")).Status);
        await server.RestartAsync();
        await UntilStatusAsync(port, "/readyz", HttpStatusCode.OK, TimeSpan.FromSeconds(30), node);
    }

    [Fact]
    public async Task OtlpEndpointSet_MetricsAreExportedOverOtlp()
    {
        int collectorPort = NatsServer.FreePort();
        var seen = new ConcurrentQueue<(string Path, string ContentType)>();
        using var collector = new HttpListener();
        collector.Prefixes.Add($"http://127.0.0.1:{collectorPort}/");
        collector.Start();
        _ = Task.Run(async () =>
        {
            while (collector.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await collector.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                seen.Enqueue((context.Request.Url!.AbsolutePath, context.Request.ContentType ?? ""));
                context.Response.StatusCode = 200;
                context.Response.Close();
            }
        });

        int port = NatsServer.FreePort();
        using var node = new CliProcess(
            ["node", "--name", "otlp-1", "--http", $"127.0.0.1:{port}", "--module", typeof(PodsModule).Assembly.Location],
            new Dictionary<string, string>
            {
                ["Tether__Demo__Roles"] = "web",
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{collectorPort}",
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
                ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            });
        await UntilStatusAsync(port, "/readyz", HttpStatusCode.OK, TimeSpan.FromSeconds(60), node);
        await PodsRun.Until(() => seen.Any(s => s.Path == "/v1/metrics"), "an OTLP metrics export to the collector", TimeSpan.FromSeconds(30));
        Assert.Contains(seen, s => s.Path == "/v1/metrics" && s.ContentType.StartsWith("application/x-protobuf", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("8081", "is not HOST:PORT")]
    [InlineData("0.0.0.0:99999", "is not HOST:PORT")]
    [InlineData("example.org:8081", "\"example.org\" is not an IP address")]
    public async Task BadHttpAddress_ExitsTwoNamingTheKey(string value, string expected)
    {
        using var node = new CliProcess(["node", "--name", "bad-1", "--http", value]);
        Assert.Equal(2, await node.ExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains($"Tether:Http \"{value}\"", node.Output, StringComparison.Ordinal);
        Assert.Contains(expected, node.Output, StringComparison.Ordinal);
    }
}
