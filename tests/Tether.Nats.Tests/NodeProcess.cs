using System.Diagnostics;
using Tether.Hosting;

namespace Tether.Nats.Tests;

/// <summary>The module the out-of-process nodes host: an <see cref="Echo"/> registered as service "echo".</summary>
public sealed class EchoModule : ITetherModule
{
    public void RegisterContracts(ContractRegistry contracts) => Cluster.Register(contracts);

    public void Start(Node node) => node.RegisterService("echo", node.Spawn(() => new Echo(), new SpawnOptions { MailboxCapacity = 20_000 }));
}

/// <summary>A node in its own OS process: `tether node` hosting <see cref="EchoModule"/>. Killed (SIGKILL) at the end.</summary>
public sealed class NodeProcess : IDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _output = [];

    private NodeProcess(string name, string natsUrl, IReadOnlyDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (string arg in new[] { Path.Join(AppContext.BaseDirectory, "Tether.Cli.dll"), "node", "--name", name, "--nats", natsUrl, "--module", typeof(EchoModule).Assembly.Location })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["Tether__Nats__HeartbeatInterval"] = "00:00:00.5";
        foreach ((string key, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start `tether node`");
        _process.OutputDataReceived += (_, e) => Seen(e.Data, name);
        _process.ErrorDataReceived += (_, e) => Seen(e.Data, name);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public static async Task<NodeProcess> StartAsync(string name, string natsUrl, IReadOnlyDictionary<string, string>? environment = null)
    {
        var node = new NodeProcess(name, natsUrl, environment);
        try
        {
            await node._ready.Task.WaitAsync(TimeSpan.FromSeconds(30)); // a hang guard: a process start on a loaded machine
        }
        catch (TimeoutException)
        {
            string output = node.Output;
            node.Dispose();
            throw new TimeoutException($"`tether node --name {name}` did not report ready within 30 s. Its output:\n{output}");
        }

        return node;
    }

    private void Seen(string? line, string name)
    {
        if (line is null)
        {
            // End of output: the process exited (or was killed by the test). Never touch the Process object here:
            // it may already be disposed, and this runs on a thread-pool thread where a throw kills the test host.
            _ready.TrySetException(new InvalidOperationException($"`tether node` ended before it was ready:\n{Output}"));
            return;
        }

        lock (_output)
        {
            _output.Add(line);
        }

        if (line.Contains($"Tether node {name} ready", StringComparison.Ordinal))
        {
            _ready.TrySetResult();
        }
    }

    /// <summary>kill -TERM: the way a supervisor asks a process to stop.</summary>
    public void Terminate()
    {
        if (!_process.HasExited && SendSignal(_process.Id, 15) != 0)
        {
            throw new InvalidOperationException($"kill -TERM {_process.Id} failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>kill -STOP (<paramref name="stop"/>) or kill -CONT: the whole process stalls, as a node starved of CPU or paused by a debugger.</summary>
    public void Pause(bool stop)
    {
        const int sigStop = 19, sigCont = 18; // Linux
        if (!_process.HasExited && SendSignal(_process.Id, stop ? sigStop : sigCont) != 0)
        {
            throw new InvalidOperationException($"kill -{(stop ? "STOP" : "CONT")} {_process.Id} failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Completes when the process has exited.</summary>
    public Task WaitForExitAsync(CancellationToken cancellation) => _process.WaitForExitAsync(cancellation);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    /// <summary>kill -9.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
