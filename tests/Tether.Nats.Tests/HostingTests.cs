using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Tether.Hosting;

namespace Tether.Nats.Tests;

public sealed class HostingTests
{
    private static IHost Build(Dictionary<string, string?> settings)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddTether(builder.Configuration);
        builder.Services.AddTetherModule<EchoModule>();
        return builder.Build();
    }

    [Fact]
    public async Task AddTether_FromConfiguration_StartsTheNodeItsModuleAndAHealthCheck()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        using IHost host = Build(new()
        {
            ["Tether:Name"] = "hosted",
            ["Tether:Nats:Url"] = cluster.Server.Url,
            ["Tether:DefaultRequestTimeout"] = "00:00:10",
        });
        HealthCheckService health = host.Services.GetRequiredService<HealthCheckService>();
        Assert.Equal(HealthStatus.Unhealthy, (await health.CheckHealthAsync()).Status);

        await host.StartAsync();
        TetherRuntime runtime = host.Services.GetRequiredService<TetherRuntime>();
        Assert.Equal("hosted", runtime.Node.Name);
        Assert.Equal(TimeSpan.FromSeconds(10), runtime.Node.Options.DefaultRequestTimeout);
        Assert.NotNull(runtime.Broker);
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);

        (Node alpha, _) = await cluster.AddNodeAsync("alpha");
        Assert.Equal("echo hosting from hosted", await alpha.Request("echo", new Ask("hosting")).AsTask().WaitAsync(TimeSpan.FromSeconds(15))); // a hang guard only

        await host.StopAsync();
        Assert.Equal(HealthStatus.Unhealthy, (await health.CheckHealthAsync()).Status);
    }

    [Fact]
    public void AddTether_BadConfiguration_FailsNamingTheKeys()
    {
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => Build(new()
        {
            ["Tether:Nats:Url"] = "nats://127.0.0.1:1",
            ["Tether:Nats:HeartbeatInterval"] = "00:00:05",
            ["Tether:Nats:FailureTimeout"] = "00:00:01",
            ["Tether:DefaultMailboxCapacity"] = "0",
        }));
        Assert.Contains("Tether:Nats:FailureTimeout", error.Message, StringComparison.Ordinal);
        Assert.Contains("Tether:DefaultMailboxCapacity (--mailbox-capacity): must be at least 1", error.Message, StringComparison.Ordinal);
    }
}
