using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Tether.Hosting.Tests;

[Contract("hosting.order")]
public sealed record HostedOrder(int Quantity) : IRequest<string>;

public sealed class Desk : Target, ITarget<Desk>
{
    public static void Wire(Channels<Desk> channels) => channels.Request<HostedOrder, string>(static (_, m, _) => $"{m.Quantity} ordered");
}

public sealed class DeskModule : ITetherModule
{
    public void RegisterContracts(ContractRegistry contracts) => contracts.RegisterAssembly(typeof(DeskModule).Assembly);

    public void Start(Node node) => node.RegisterService("desk", node.Spawn(() => new Desk()));
}

/// <summary>A hosted node built from configuration alone: options, the module's contracts and the adapters of a spec directory.</summary>
public sealed class HostedNodeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tether-hosting-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task AddTether_SpecDirectoryAndModuleContracts_TheMailboxEnforcesTheSpec()
    {
        string specs = Directory.CreateDirectory(Path.Join(_dir, "contracts")).FullName;
        File.WriteAllText(Path.Join(specs, "order.yaml"), "message: hosting.order\nrules:\n  - field: quantity\n    range: { min: 1, max: 3 }\n");
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Tether:Name"] = "hosted",
            ["Tether:DefaultMailboxCapacity"] = "77",
            ["Tether:Adapters:Specs"] = specs,
        });
        builder.Services.AddTether(builder.Configuration).AddTetherModule<DeskModule>();
        using IHost host = builder.Build();

        await host.StartAsync();
        try
        {
            Node node = host.Services.GetRequiredService<Node>();
            string answer = await node.Request("desk", new HostedOrder(2)).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            TetherException refused = await Assert.ThrowsAnyAsync<TetherException>(() => node.Request("desk", new HostedOrder(9)).AsTask().WaitAsync(TimeSpan.FromSeconds(30)));

            Assert.Equal("2 ordered", answer);
            Assert.Equal(ErrorCodes.ContractViolation, refused.Code);
            Assert.Equal(77, node.Options.DefaultMailboxCapacity);
            Assert.Same(host.Services.GetRequiredService<ContractRegistry>(), node.Contracts);
            Assert.True(node.Contracts.TryGetName(typeof(HostedOrder), out string name));
            Assert.Equal("hosting.order", name);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public void AddTether_ConfigureChangesTheBoundOptions()
    {
        var services = new ServiceCollection();
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Tether:Throughput"] = "5" }).Build();

        services.AddTether(configuration, o => o with { Node = o.Node with { Throughput = o.Node.Throughput * 2 } });

        TetherOptions options = (TetherOptions)services.Single(d => d.ServiceType == typeof(TetherOptions)).ImplementationInstance!;
        Assert.Equal(10, options.Node.Throughput);
    }
}
