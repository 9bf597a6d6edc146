using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Tether.Demo;

namespace Tether.Cli;

/// <summary>The nats-server and the three node processes of <c>--nodes 3</c>, and stopping them all, once.</summary>
internal sealed class DemoThreeNodes
{
    private readonly List<(string Name, Process Process, TaskCompletionSource Ready)> _nodes = [];
    private readonly TaskCompletionSource<string> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _folder = Directory.CreateTempSubdirectory("tether-demo-").FullName;
    private readonly object _gate = new();
    private Process? _nats;
    private Task? _stopping;

    public Task AnyExited => _exited.Task;

    public string ExitedName => _exited.Task.IsCompleted ? _exited.Task.Result : "";

    public async Task<int> StartNatsAsync(CancellationToken cancellation)
    {
        string executable = new[] { "/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("nats-server is not installed: run `apt-get install nats-server` (--nodes 3 starts one on a free local port).");
        int port = FreePort();
        string log = Path.Join(_folder, "nats-server.log");
        var start = new ProcessStartInfo(executable)
        {
            ArgumentList = { "-a", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-js", "-sd", Path.Join(_folder, "jetstream"), "-l", log },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        _nats = Process.Start(start) ?? throw new InvalidOperationException($"{executable} did not start.");
        long begin = Stopwatch.GetTimestamp();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port, cancellation);
                return port;
            }
            catch (SocketException) when (!_nats.HasExited && Stopwatch.GetElapsedTime(begin) < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(20, cancellation); // polling for the port to open, with a deadline
            }
            catch (SocketException)
            {
                string text = File.Exists(log) ? await File.ReadAllTextAsync(log, cancellation) : "";
                throw new InvalidOperationException($"nats-server did not open port {port} within 10 s.\n{text}");
            }
        }
    }

    public void StartNode(string role, string name, string url, int port, DemoOptions options)
    {
        var start = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };

        // Run this same command line again: through `dotnet Tether.Cli.dll`, or its own executable.
        string self = typeof(DemoCommand).Assembly.Location;
        string host = Environment.ProcessPath ?? "dotnet";
        start.FileName = host;
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            start.ArgumentList.Add(self);
        }

        foreach (string argument in new[] { "demo", "--role", role, "--name", name, "--nats", url, "--port", port.ToString(CultureInfo.InvariantCulture), "--db", options.DatabasePath, "--stop-on-stdin-close" })
        {
            start.ArgumentList.Add(argument);
        }

        if (options.PostgresConnection is { } postgres)
        {
            start.Environment[DemoCommand.PostgresVariable] = postgres;
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException($"the {role} node did not start.");
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _nodes.Add((role, process, ready));
        }

        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data == DemoCommand.ReadyLine)
            {
                ready.TrySetResult();
            }
            else if (e.Data is not null)
            {
                Console.WriteLine($"[{role}] {e.Data}");
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Console.Error.WriteLine($"[{role}] {e.Data}");
            }
        };
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) =>
        {
            ready.TrySetException(new InvalidOperationException($"the {role} node exited (code {process.ExitCode}) before it was ready; its output is above."));
            _exited.TrySetResult(role);
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public async Task AllReadyAsync(CancellationToken cancellation)
    {
        Task[] ready;
        lock (_gate)
        {
            ready = [.. _nodes.Select(n => n.Ready.Task)];
        }

        try
        {
            await Task.WhenAll(ready).WaitAsync(DemoCommand.StartDeadline, cancellation);
        }
        catch (TimeoutException)
        {
            throw new InvalidOperationException($"the nodes were not all ready within {DemoCommand.StartDeadline.TotalSeconds:F0} s.");
        }
    }

    /// <summary>Stops the nodes (their standard input closes; killed if they take longer than 15 s), then nats-server, and deletes the temp folder. Once.</summary>
    public Task StopAsync()
    {
        lock (_gate)
        {
            return _stopping ??= Task.Run(StopAllAsync);
        }
    }

    private async Task StopAllAsync()
    {
        (string Name, Process Process, TaskCompletionSource Ready)[] nodes;
        lock (_gate)
        {
            nodes = [.. _nodes];
        }

        // In the reverse order of their start: the supplier goes last, so no node sees it vanish while stopping.
        foreach ((string name, Process process, _) in Enumerable.Reverse(nodes))
        {
            await StopNodeAsync(name, process);
        }

        if (_nats is { } nats)
        {
            if (!nats.HasExited)
            {
                _ = Tmds.Linux.LibC.kill(nats.Id, Tmds.Linux.LibC.SIGTERM); // lets JetStream close its files
                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try
                {
                    await nats.WaitForExitAsync(deadline.Token);
                }
                catch (OperationCanceledException)
                {
                    nats.Kill();
                }
            }

            nats.Dispose();
        }

        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open; the folder is in the system's temp space.
        }
    }

    private static async Task StopNodeAsync(string name, Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.StandardInput.Close();
                using var deadline = new CancellationTokenSource(DemoCommand.StopDeadline);
                try
                {
                    await process.WaitForExitAsync(deadline.Token);
                }
                catch (OperationCanceledException)
                {
                    Console.Error.WriteLine($"tether demo: the {name} node did not stop within {DemoCommand.StopDeadline.TotalSeconds:F0} s; killing it.");
                    process.Kill(entireProcessTree: true);
                }
            }
        }
        catch (InvalidOperationException)
        {
            // It had already gone.
        }
        finally
        {
            process.Dispose();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
