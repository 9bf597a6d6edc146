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
        var modules = new Option<string[]>("--module") { Description = "An assembly whose public ITetherModule types the node hosts (repeatable). Its dependencies are found through its own .deps.json, in its folder.", AllowMultipleArgumentsPerToken = false };
        var command = new Command("node", "Run a Tether node from configuration (appsettings.json, then Tether__* environment variables, then these flags), hosting the modules of the given assemblies.")
        {
            config, modules,
        };

        // One flag per setting, from the same table the configuration binder checks, so a flag's errors name its key.
        var settings = new List<(Option<string[]> Option, TetherSetting Setting)>();
        foreach (TetherSetting setting in TetherOptions.Settings)
        {
            var option = new Option<string[]>(setting.Flag) { Description = $"{setting.Description} ({setting.Key})", HelpName = "VALUE", AllowMultipleArgumentsPerToken = false };
            command.Options.Add(option);
            settings.Add((option, setting));
        }

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

            foreach ((Option<string[]> option, TetherSetting setting) in settings)
            {
                if (parse.GetValue(option) is { Length: > 0 } values)
                {
                    Set(setting.Key, string.Join(',', values));
                }
            }

            string? configFile = parse.GetValue(config);
            if (configFile is not null && !File.Exists(configFile))
            {
                await Console.Error.WriteLineAsync($"tether node: --config {configFile}: the file does not exist.");
                return 2;
            }

            HostApplicationBuilder builder;
            try
            {
                // Loads appsettings.json (and appsettings.{Environment}.json) from the current folder when present.
                builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ContentRootPath = Directory.GetCurrentDirectory() });
                if (configFile is not null)
                {
                    builder.Configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false);
                }
            }
            catch (InvalidDataException ex)
            {
                // "Failed to load configuration from file '...'" with the JSON reader's line and position inside.
                string why = "";
                for (Exception? inner = ex.InnerException; inner is not null; inner = inner.InnerException)
                {
                    why += $": {inner.Message.TrimEnd('.')}";
                }

                await Console.Error.WriteLineAsync($"tether node: {ex.Message.TrimEnd('.')}{why}");
                return 2;
            }

            builder.Configuration.AddEnvironmentVariables();
            builder.Configuration.AddInMemoryCollection(overrides);
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);

            // A start failure is reported once, as a message below; the host's and the NATS client's own error logs of
            // it would add stack traces. Once the node runs, the NATS client logs as usual (reconnects and the like).
            // The rule is the NATS client's own (a rule for every category would lift the configured minimum level of all
            // of them: each category's level is its most specific rule's); its level is the configured one, Information
            // by default, as for any other category.
            bool started = false;
            LogLevel natsLevel = ConfiguredLevel(builder.Configuration, "NATS.Client") ?? ConfiguredLevel(builder.Configuration, "NATS") ?? ConfiguredLevel(builder.Configuration, "Default") ?? LogLevel.Information;
            builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
            builder.Logging.AddFilter("NATS.Client", level => level >= (Volatile.Read(ref started) ? natsLevel : LogLevel.Critical));
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
                _ = host.Services.GetRequiredService<TetherRuntime>(); // the node, its contracts and adapters: spec errors surface here
                host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted.Register(() => Volatile.Write(ref started, true));
                await host.RunAsync(cancellation);
            }
            catch (Exception ex) when (ex is TetherException or ArgumentException or Tether.Adapters.ContractSpecException)
            {
                // A spec error lists each problem as file:line:col: message; an unreachable server names its URL.
                await Console.Error.WriteLineAsync($"tether node: {ex.Message}");
                return 1;
            }

            return 0;
        });
        return command;
    }

    /// <summary>The level configured for a category (<c>Logging:LogLevel:{category}</c>), when one is, and valid.</summary>
    private static LogLevel? ConfiguredLevel(IConfiguration configuration, string category)
        => Enum.TryParse(configuration[$"Logging:LogLevel:{category}"], ignoreCase: true, out LogLevel level) ? level : null;

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
