using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Tether;
using Tether.Hosting;

namespace Microsoft.Extensions.Hosting;

/// <summary>Adds Tether to a host: <c>services.AddTether(configuration)</c>, modules, health checks and OpenTelemetry.</summary>
public static class TetherServiceCollectionExtensions
{
    /// <summary>
    /// Adds a Tether node to the host: options from the <c>Tether</c> section of <paramref name="configuration"/> (validated at
    /// start with errors naming the key), then <paramref name="configure"/>; logging through the host's logger factory;
    /// a health check named "tether"; the node starts and stops with the host.
    /// </summary>
    public static IServiceCollection AddTether(this IServiceCollection services, IConfiguration? configuration = null, Action<TetherOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = new TetherOptions();
        configuration?.GetSection(TetherOptions.Section).Bind(options);
        configure?.Invoke(options);
        Validate(options);

        services.TryAddSingleton(options);
        services.TryAddSingleton(sp => new TetherRuntime(Node.Create(new NodeOptions
        {
            Name = string.IsNullOrWhiteSpace(options.Name) ? null : options.Name,
            DefaultRequestTimeout = options.DefaultRequestTimeout,
            DefaultMailboxCapacity = options.DefaultMailboxCapacity,
            LoggerFactory = sp.GetRequiredService<ILoggerFactory>(),
        })));
        services.TryAddSingleton(sp => sp.GetRequiredService<TetherRuntime>().Node);
        services.AddHostedService<TetherHostedService>();
        services.AddHealthChecks().AddCheck<TetherHealthCheck>("tether");
        return services;
    }

    /// <summary>Adds a module: created through DI, it registers contracts and starts targets when the host starts.</summary>
    public static IServiceCollection AddTetherModule<T>(this IServiceCollection services)
        where T : class, ITetherModule
    {
        services.AddSingleton<ITetherModule, T>();
        return services;
    }

    /// <summary>Adds the Tether activity source (a span per request and per handled message, across nodes).</summary>
    public static TracerProviderBuilder AddTetherInstrumentation(this TracerProviderBuilder builder)
        => builder.AddSource(Node.TelemetryName);

    /// <summary>Adds the Tether meters (message rates, mailbox depth, targets, request latency).</summary>
    public static MeterProviderBuilder AddTetherInstrumentation(this MeterProviderBuilder builder)
        => builder.AddMeter(Node.TelemetryName);

    private static void Validate(TetherOptions options)
    {
        List<string> errors = [];
        if (options.DefaultRequestTimeout <= TimeSpan.Zero)
        {
            errors.Add($"Tether:DefaultRequestTimeout must be positive; it is {options.DefaultRequestTimeout}.");
        }

        if (options.DefaultMailboxCapacity < 1)
        {
            errors.Add($"Tether:DefaultMailboxCapacity must be at least 1; it is {options.DefaultMailboxCapacity}.");
        }

        if (!string.IsNullOrWhiteSpace(options.Nats.Url))
        {
            if (options.Nats.HeartbeatInterval <= TimeSpan.Zero)
            {
                errors.Add($"Tether:Nats:HeartbeatInterval must be positive; it is {options.Nats.HeartbeatInterval}.");
            }

            if (options.Nats.FailureTimeout <= options.Nats.HeartbeatInterval)
            {
                errors.Add($"Tether:Nats:FailureTimeout ({options.Nats.FailureTimeout}) must be longer than Tether:Nats:HeartbeatInterval ({options.Nats.HeartbeatInterval}).");
            }

            if (!string.IsNullOrWhiteSpace(options.Name) && Names.WhyNotToken(options.Name, "Tether:Name") is { } why)
            {
                errors.Add(why);
            }
        }

        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Tether configuration is not valid:\n  " + string.Join("\n  ", errors));
        }
    }
}
