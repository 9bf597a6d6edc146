using System.CommandLine;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tether.Hosting;

namespace Tether.Cli;

/// <summary>
/// <c>tether node</c>: runs a node from configuration (appsettings.json, then <c>Tether__*</c> environment variables,
/// then flags) hosting the <see cref="ITetherModule"/>s of the given assemblies, until Ctrl+C or SIGTERM.
/// </summary>
internal static class NodeCommand
{
    public static Command Build()
    {
        var config = new Option<string?>("--config") { Description = "A JSON configuration file (default: appsettings.json in the current folder, if present)." };
        var name = new Option<string?>("--name") { Description = "The node's name (Tether:Name)." };
        var nats = new Option<string?>("--nats") { Description = "NATS server URLs (Tether:Nats:Url); without it the node runs embedded." };
        var cluster = new Option<string?>("--cluster") { Description = "The Tether cluster name (Tether:Nats:Cluster)." };
        var http = new Option<string?>("--http") { Description = "Serve /healthz, /readyz and /metrics on HOST:PORT, for example 0.0.0.0:8081 (Tether:Http)." };
        var modules = new Option<string[]>("--module") { Description = "An assembly whose public ITetherModule types the node hosts (repeatable).", AllowMultipleArgumentsPerToken = false };
        var command = new Command("node", "Run a Tether node from configuration, hosting the modules of the given assemblies.")
        {
            config, name, nats, cluster, modules, http,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            string[] paths = parse.GetValue(modules) ?? [];
            List<Type> moduleTypes = [];
            foreach (string path in paths)
            {
                try
                {
                    moduleTypes.AddRange(LoadModules(path));
                }
                catch (Exception ex) when (ex is FileNotFoundException or BadImageFormatException or FileLoadException or InvalidOperationException or ReflectionTypeLoadException)
                {
                    await Console.Error.WriteLineAsync($"tether node: --module {path}: {ex.Message}");
                    return 2;
                }
            }

            var overrides = new Dictionary<string, string?>();
            void Set(string key, string? value)
            {
                if (value is not null)
                {
                    overrides[key] = value;
                }
            }

            Set("Tether:Name", parse.GetValue(name));
            Set("Tether:Nats:Url", parse.GetValue(nats));
            Set("Tether:Nats:Cluster", parse.GetValue(cluster));
            Set(NodeHttp.ConfigKey, parse.GetValue(http));

            string? configFile = parse.GetValue(config);
            if (configFile is not null && !File.Exists(configFile))
            {
                await Console.Error.WriteLineAsync($"tether node: --config {configFile}: the file does not exist.");
                return 2;
            }

            HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ContentRootPath = Directory.GetCurrentDirectory() });
            if (configFile is not null)
            {
                builder.Configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false);
            }

            builder.Configuration.AddEnvironmentVariables();
            builder.Configuration.AddInMemoryCollection(overrides);
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
            try
            {
                builder.Services.AddTether(builder.Configuration);
                NodeHttp.Add(builder.Services, builder.Configuration);
            }
            catch (Exception ex) when (ex is InvalidOperationException or FormatException)
            {
                await Console.Error.WriteLineAsync($"tether node: {ex.Message}");
                return 2;
            }

            foreach (Type type in moduleTypes)
            {
                builder.Services.AddSingleton(typeof(ITetherModule), type);
            }

            using IHost host = builder.Build();
            try
            {
                await host.RunAsync(cancellation);
            }
            catch (Exception ex) when (ex is TetherException or ArgumentException)
            {
                await Console.Error.WriteLineAsync($"tether node: {ex.Message}");
                return 1;
            }

            return 0;
        });
        return command;
    }

    private static IEnumerable<Type> LoadModules(string path)
    {
        string full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new FileNotFoundException("the assembly does not exist.", full);
        }

        // Resolve the module's own dependencies from its folder (its .deps.json); shared ones (Tether) stay ours.
        var resolver = new AssemblyDependencyResolver(full);
        AssemblyLoadContext.Default.Resolving += (context, name) =>
            resolver.ResolveAssemblyToPath(name) is { } dependency ? context.LoadFromAssemblyPath(dependency) : null;
        Assembly assembly = AssemblyLoadContext.Default.LoadFromAssemblyPath(full);
        Type[] found = assembly.GetExportedTypes()
            .Where(t => typeof(ITetherModule).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
            .ToArray();
        if (found.Length == 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(full)} has no public class implementing ITetherModule.");
        }

        return found;
    }
}
