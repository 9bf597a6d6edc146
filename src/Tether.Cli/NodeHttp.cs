using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Tether.Hosting;

namespace Tether.Cli;

/// <summary>
/// The HTTP side of <c>tether node</c> (<c>--http HOST:PORT</c>, config <c>Tether:Http</c>): <c>/healthz</c> (the process
/// lives), <c>/readyz</c> (the node is started, attached to NATS and serving: the "tether" health check is Healthy),
/// <c>/metrics</c> (Prometheus text from OpenTelemetry's exporter: the Tether meter). With
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, traces and metrics also go out over OTLP.
/// </summary>
internal static partial class NodeHttp
{
    public const string ConfigKey = "Tether:Http";

    /// <summary>Adds OpenTelemetry (Prometheus when an HTTP address is set, OTLP when its endpoint is) and the listener.</summary>
    public static void Add(IServiceCollection services, IConfiguration configuration)
    {
        string? http = configuration[ConfigKey];
        bool otlp = !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        IPEndPoint? endpoint = null;
        if (!string.IsNullOrWhiteSpace(http))
        {
            endpoint = ParseEndpoint(http);
        }

        if (endpoint is null && !otlp)
        {
            return;
        }

        string serviceName = configuration["OTEL_SERVICE_NAME"] ?? "tether-node";
        IOpenTelemetryBuilder telemetry = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName, serviceInstanceId: configuration["Tether:Name"]))
            .WithMetrics(m =>
            {
                m.AddTetherInstrumentation();
                if (endpoint is not null)
                {
                    m.AddPrometheusExporter();
                }
            })
            .WithTracing(t => t.AddTetherInstrumentation());
        if (otlp)
        {
            telemetry.UseOtlpExporter(); // endpoint, protocol and headers from the OTEL_EXPORTER_OTLP_* variables
        }

        if (endpoint is not null)
        {
            // First among the hosted services: /healthz answers while the node is still starting (and /readyz says 503).
            services.Insert(0, ServiceDescriptor.Singleton<IHostedService>(sp => new Listener(endpoint, sp)));
        }
    }

    /// <summary>HOST:PORT (an IP address or "localhost", "*" or "0.0.0.0" for every address); a clear error otherwise.</summary>
    public static IPEndPoint ParseEndpoint(string text)
    {
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
        {
            throw new InvalidOperationException($"{ConfigKey} \"{text}\" is not HOST:PORT with a port from 1 to 65535 (for example 0.0.0.0:8081).");
        }

        string host = text[..colon].Trim('[', ']');
        IPAddress? address = host switch
        {
            "*" or "+" => IPAddress.Any,
            "localhost" => IPAddress.Loopback,
            _ => IPAddress.TryParse(host, out IPAddress? parsed) ? parsed : null,
        };
        return address is null
            ? throw new InvalidOperationException($"{ConfigKey} \"{text}\": \"{host}\" is not an IP address (use 0.0.0.0 for every address, or 127.0.0.1).")
            : new IPEndPoint(address, port);
    }

    /// <summary>A small Kestrel app of its own, so the node's host stays a plain generic host.</summary>
    private sealed partial class Listener(IPEndPoint endpoint, IServiceProvider services) : IHostedService, IAsyncDisposable
    {
        private WebApplication? _app;

        public async Task StartAsync(CancellationToken cancellationToken)
        {
            WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
            builder.WebHost.ConfigureKestrel(k => k.Listen(endpoint));
            builder.Logging.ClearProviders();
            _app = builder.Build();
            TetherRuntime runtime = services.GetRequiredService<TetherRuntime>();
            HealthCheckService health = services.GetRequiredService<HealthCheckService>();
            MeterProvider meters = services.GetRequiredService<MeterProvider>();
            _app.MapGet("/healthz", () => Results.Text("live\n"));
            _app.MapGet("/readyz", async (CancellationToken cancel) =>
            {
                if (!runtime.IsStarted)
                {
                    return Results.Text($"not ready: node {runtime.Node.Name} is starting\n", statusCode: StatusCodes.Status503ServiceUnavailable);
                }

                HealthReport report = await health.CheckHealthAsync(r => r.Name == "tether", cancel).ConfigureAwait(false);
                HealthReportEntry entry = report.Entries.Values.FirstOrDefault();
                return report.Status == HealthStatus.Healthy
                    ? Results.Text($"ready: {entry.Description}\n")
                    : Results.Text($"not ready: {entry.Description}\n", statusCode: StatusCodes.Status503ServiceUnavailable);
            });
            _app.UseOpenTelemetryPrometheusScrapingEndpoint(meters, predicate: null, path: "/metrics", configureBranchedPipeline: null, optionsName: null);
            await _app.StartAsync(cancellationToken).ConfigureAwait(false);
            LogListening(services.GetRequiredService<ILogger<Listener>>(), endpoint.ToString());
        }

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            if (_app is not null)
            {
                await _app.StopAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_app is not null)
            {
                await _app.DisposeAsync().ConfigureAwait(false);
            }
        }

        [LoggerMessage(1, LogLevel.Information, "Tether node HTTP on {Endpoint}: /healthz, /readyz, /metrics")]
        private static partial void LogListening(ILogger logger, string endpoint);
    }
}
