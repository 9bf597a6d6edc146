using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Tether;
using Tether.Adapters;
using Tether.Hosting;

namespace Microsoft.Extensions.Hosting;

/// <summary>Adds Tether to a host: <c>services.AddTether(configuration)</c>, modules, health checks and OpenTelemetry.</summary>
public static class TetherServiceCollectionExtensions
{
    /// <summary>
    /// Adds a Tether node to the host: options bound from the <c>Tether</c> section of <paramref name="configuration"/>
    /// (<see cref="TetherOptions.Bind"/>: every key checked, errors naming the key), then changed by
    /// <paramref name="configure"/>; the node's contract registry (also in DI as <see cref="ContractRegistry"/>), filled
    /// by every module's <see cref="ITetherModule.RegisterContracts"/> before the node is created; the adapters of
    /// <see cref="TetherOptions.AdapterSpecs"/>; logging through the host's logger factory; a health check named "tether";
    /// the node and its broker proxy start and stop with the host.
    /// </summary>
    /// <exception cref="InvalidOperationException">The configuration is not valid; the message names every bad key.</exception>
    public static IServiceCollection AddTether(this IServiceCollection services, IConfiguration? configuration = null, Func<TetherOptions, TetherOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        TetherOptions options = configuration is null ? new TetherOptions() : TetherOptions.Bind(configuration);
        if (configure is not null)
        {
            options = configure(options) ?? throw new InvalidOperationException("AddTether's configure returned null.");
        }

        services.TryAddSingleton(options);
        services.TryAddSingleton(_ => options.Node.Contracts ?? new ContractRegistry());
        services.TryAddSingleton(sp => new TetherRuntime(CreateNode(sp, options)));
        services.TryAddSingleton(sp => sp.GetRequiredService<TetherRuntime>().Node);
        services.AddHostedService<TetherHostedService>();
        // The host waits for the node's own bounded stop (TetherOptions.ShutdownTimeout) and a little more.
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromTicks(Math.Max(o.ShutdownTimeout.Ticks, (options.ShutdownTimeout + TimeSpan.FromSeconds(5)).Ticks)));
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

    private static Node CreateNode(IServiceProvider services, TetherOptions options)
    {
        // The registry is complete before the adapters bind their specs to types: modules register first.
        ContractRegistry contracts = services.GetRequiredService<ContractRegistry>();
        foreach (ITetherModule module in services.GetServices<ITetherModule>())
        {
            module.RegisterContracts(contracts);
        }

        IMessageAdapters? adapters = options.Node.Adapters;
        if (options.AdapterSpecs.Count > 0)
        {
            if (adapters is not null)
            {
                throw new InvalidOperationException("Tether:Adapters:Specs is set and TetherOptions.Node.Adapters too: use one of them.");
            }

            MessageAdaptersBuilder builder = MessageAdapters.CreateBuilder(contracts);
            foreach (string path in options.AdapterSpecs)
            {
                builder = Directory.Exists(path) ? builder.AddDirectory(path) : builder.AddFile(path);
            }

            adapters = (options.AllowUnregisteredContracts ? builder.AllowUnregisteredContracts() : builder).Build();
        }

        NodeOptions node = options.Node with
        {
            Contracts = contracts,
            Adapters = adapters,
            LoggerFactory = services.GetRequiredService<ILoggerFactory>(),
        };
        foreach (ITetherModule module in services.GetServices<ITetherModule>())
        {
            node = module.ConfigureNode(node) ?? throw new InvalidOperationException($"{module.GetType().Name}.ConfigureNode returned null.");
        }

        return Node.Create(node);
    }
}
