using System.Diagnostics;
using System.Runtime;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Tether;
using Tether.Demo;
using Tether.Skin.Blazor;
using Tether.Skin.Blazor.Components;

// --data DIR: serves the bench page on a free port, prints "PORT n", serves /bench/memory, ends when stdin closes.
string data = args is ["--data", string d] ? d : Path.GetTempPath();
await using Node node = Node.Create(new NodeOptions { Name = "blazor", Adapters = DemoApp.CreateAdapters() });
DemoApp.Start(node, DemoRoles.Supplier, new DemoOptions { DatabasePath = Path.Join(data, $"blazor-{Environment.ProcessId}.db") });

WebApplicationBuilder builder = WebApplication.CreateBuilder();
builder.Logging.ClearProviders();
if (Environment.GetEnvironmentVariable("BENCH_BLAZOR_LOG") is not null) { builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace); }
builder.WebHost.UseUrls("http://127.0.0.1:0");
// Run from the build output (not published): serve the framework's blazor.web.js from the static web assets manifest.
builder.WebHost.UseStaticWebAssets();
builder.Services.AddSingleton(node);
builder.Services.AddSingleton<CircuitCounter>();
builder.Services.AddSingleton<CircuitHandler>(sp => sp.GetRequiredService<CircuitCounter>());
// A closed tab's circuit is dropped at once (not kept 3 minutes for a reconnect), so the empty figure holds none.
builder.Services.AddRazorComponents().AddInteractiveServerComponents(o => o.DisconnectedCircuitMaxRetained = 0);
WebApplication app = builder.Build();
app.UseAntiforgery();
app.MapStaticAssets();
app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
app.MapGet("/bench/memory", (CircuitCounter circuits) =>
{
    for (int i = 0; i < 3; i++)
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
    }

    using var self = Process.GetCurrentProcess();
    return Results.Json(new { heap = LiveHeapBytes(), workingSet = self.WorkingSet64, clients = circuits.Open, openDialogs = circuits.Open });
});
await app.StartAsync();

// The managed heap after the last (full, compacting) collection, less its free space.
static long LiveHeapBytes()
{
    GCMemoryInfo info = GC.GetGCMemoryInfo(GCKind.FullBlocking);
    return info.HeapSizeBytes - info.FragmentedBytes;
}

string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
Console.WriteLine($"PORT {new Uri(address).Port}");
await Console.In.ReadToEndAsync();
await app.StopAsync();
