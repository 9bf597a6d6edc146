using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Tether.Benchmarks.Harness;

/// <summary>
/// A real <c>nats-server</c> (Debian package) on 127.0.0.1 and a free port, started for one remote workload and
/// stopped (by its process id) when disposed. A missing nats-server is a clear error, never a silent skip.
/// </summary>
internal sealed class NatsServerProcess : IDisposable
{
    private readonly string _dir;
    private readonly Process _process;

    private NatsServerProcess(int port, string dir, Process process)
    {
        Port = port;
        _dir = dir;
        _process = process;
    }

    public int Port { get; }

    public string Url => $"nats://127.0.0.1:{Port}";

    public static string Executable
    {
        get
        {
            foreach (string candidate in new[] { "/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server" })
            {
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            throw new InvalidOperationException("nats-server is not installed: run `apt-get install nats-server` (as root) — the tether and nats-raw remote benchmarks need a real broker.");
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task<NatsServerProcess> StartAsync()
    {
        string executable = Executable;
        int port = FreePort();
        string dir = Directory.CreateTempSubdirectory("tether-bench-nats-").FullName;
        var start = new ProcessStartInfo(executable)
        {
            ArgumentList = { "-a", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-l", Path.Join(dir, "server.log") },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process process = Process.Start(start) ?? throw new InvalidOperationException("nats-server did not start");
        var server = new NatsServerProcess(port, dir, process);
        long begin = Stopwatch.GetTimestamp();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return server;
            }
            catch (SocketException) when (Stopwatch.GetElapsedTime(begin) < TimeSpan.FromSeconds(10) && !process.HasExited)
            {
                await Task.Delay(20);
            }
            catch (SocketException ex)
            {
                string log = File.Exists(Path.Join(dir, "server.log")) ? await File.ReadAllTextAsync(Path.Join(dir, "server.log")) : "";
                server.Dispose();
                throw new InvalidOperationException($"nats-server did not open port {port} within 10 s: {ex.Message}\n{log}", ex);
            }
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
