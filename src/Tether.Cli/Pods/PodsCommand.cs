using System.CommandLine;

namespace Tether.Cli.Pods;

/// <summary>
/// <c>tether pods manifests --layout L --out DIR</c> writes the Kubernetes manifests of a layout;
/// <c>tether pods up --layout L [--run-dir DIR] [--module PATH]</c> runs it here as network-namespace pods;
/// <c>tether pods down [--run-dir DIR]</c> removes everything <c>up</c> made, also after a crash.
/// </summary>
internal static class PodsCommand
{
    public static Command Build()
    {
        var layout = new Option<string>("--layout") { Description = "A layout name (deploy/layouts/NAME.json) or a layout file.", Required = true };
        var output = new Option<string?>("--out") { Description = "The folder for the manifests (default: deploy/k8s/LAYOUT next to deploy/layouts)." };
        var manifests = new Command("manifests", "Write the Kubernetes manifests of a layout (Deployments with a NATS leaf sidecar, the NATS hub, ConfigMaps, Secrets, PodDisruptionBudgets).")
        {
            layout, output,
        };
        manifests.SetAction(parse => Manifests(parse.GetValue(layout)!, parse.GetValue(output), Console.Out, Console.Error));

        var upLayout = new Option<string>("--layout") { Description = "A layout name (deploy/layouts/NAME.json) or a layout file.", Required = true };
        var runDir = new Option<string>("--run-dir") { Description = "The folder that keeps the run's state (namespaces, processes, logs).", DefaultValueFactory = _ => LocalPods.DefaultRunDir };
        var modules = new Option<string[]>("--module") { Description = "The application module assembly each pod's node hosts (repeatable; default: the demo application, Tether.Demo.dll beside tether).", DefaultValueFactory = _ => [LocalPods.DemoModule] };
        var up = new Command("up", "Run a layout here: one network namespace per pod with its leaf nats-server and node, and a three-server NATS hub (needs root).")
        {
            upLayout, runDir, modules,
        };
        up.SetAction(async (parse, cancellation) =>
        {
            try
            {
                LocalPods.CheckRights(); // first: without the rights nothing else matters
                PodLayout plan = PodLayout.Load(PodLayout.Resolve(parse.GetValue(upLayout)!));
                await using LocalPods pods = await LocalPods.UpAsync(plan, parse.GetValue(runDir)!, parse.GetValue(modules)!, Console.Error, cancellation);
                pods.Detach(); // the pods keep running after this command ends; `tether pods down` removes them
                Console.Out.WriteLine(pods.Describe());
                return 0;
            }
            catch (Exception ex) when (ex is PodLayoutException or LocalPodsException)
            {
                await Console.Error.WriteLineAsync($"tether pods up: {ex.Message}");
                return ex is LocalPodsException { IsPermission: true } ? 77 : 1;
            }
        });

        var downRunDir = new Option<string>("--run-dir") { Description = "The folder `tether pods up` kept its state in.", DefaultValueFactory = _ => LocalPods.DefaultRunDir };
        var down = new Command("down", "Stop every process and remove every namespace and link `tether pods up` made.")
        {
            downRunDir,
        };
        down.SetAction(parse =>
        {
            try
            {
                string report = LocalPods.Down(parse.GetValue(downRunDir)!);
                Console.Out.WriteLine(report);
                return 0;
            }
            catch (LocalPodsException ex)
            {
                Console.Error.WriteLine($"tether pods down: {ex.Message}");
                return ex.IsPermission ? 77 : 1;
            }
        });

        return new Command("pods", "Deploy layouts: Kubernetes manifests, and the same layouts run here as network-namespace pods.")
        {
            manifests, up, down,
        };
    }

    public static int Manifests(string layoutName, string? output, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            string path = PodLayout.Resolve(layoutName);
            PodLayout layout = PodLayout.Load(path);
            string folder = output ?? Path.GetFullPath(Path.Join(Path.GetDirectoryName(path)!, "..", "k8s", layout.Name));
            foreach (string file in ManifestWriter.WriteTo(layout, folder))
            {
                stdout.WriteLine(file);
            }

            return 0;
        }
        catch (PodLayoutException ex)
        {
            stderr.WriteLine($"tether pods manifests: {ex.Message}");
            return 1;
        }
    }
}
