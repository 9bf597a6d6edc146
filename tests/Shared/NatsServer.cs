using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Tether.Testing;

/// <summary>
/// A real nats-server process on 127.0.0.1 and a free port, started for a test (or a remote benchmark) and killed at
/// the end. A missing nats-server is a clear error; it never skips. Shared by tests/Tether.Nats.Tests and
/// benchmarks/Tether.Benchmarks (linked source).
/// </summary>
public sealed class NatsServer : IDisposable
{
    private readonly string _dir;
    private Process? _process;

    private readonly string? _config;

    // Servers not yet disposed: killed when the process exits, so a test host that ends without disposing one (an aborted
    // run) leaves no broker behind.
    private static readonly HashSet<NatsServer> s_live = [];

    static NatsServer() => AppDomain.CurrentDomain.ProcessExit += static (_, _) =>
    {
        NatsServer[] left;
        lock (s_live)
        {
            left = [.. s_live];
        }

        foreach (NatsServer server in left)
        {
            server.Kill();
        }
    };

    private NatsServer(int port, string? config)
    {
        Port = port;
        _config = config;
        _dir = Directory.CreateTempSubdirectory("tether-nats-").FullName;
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

            throw new InvalidOperationException("nats-server is not installed: run `apt-get install nats-server` (scripts/test.sh does it) — the NATS tests and the remote benchmarks need a real broker.");
        }
    }

    public static Task<NatsServer> StartAsync(bool jetStream = false)
        => WithFreshPortsAsync(() => StartNewAsync(new NatsServer(FreePort(), null) { JetStream = jetStream }));

    /// <summary>
    /// Runs <paramref name="start"/> (which picks ports with <see cref="FreePort"/> and starts servers on them) again with
    /// new ports when a picked port was taken before the server bound it (by another test's server, or by the kernel for
    /// an outgoing connection); at most five times. <paramref name="start"/> disposes what it started before failing.
    /// </summary>
    public static async Task<T> WithFreshPortsAsync<T>(Func<Task<T>> start)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await start();
            }
            catch (PortTakenException) when (attempt < 5)
            {
                // picked ports raced with someone else: pick again
            }
        }
    }

    private static async Task<NatsServer> StartNewAsync(NatsServer server)
    {
        try
        {
            await server.RestartAsync();
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    public bool JetStream { get; private init; }

    /// <summary>Starts a server with a configuration file; <paramref name="config"/> gets the client port and may add blocks (leafnodes, cluster).</summary>
    public static Task<NatsServer> StartWithConfigAsync(Func<int, string> config)
        => WithFreshPortsAsync(() =>
        {
            int port = FreePort();
            return StartNewAsync(new NatsServer(port, config(port)));
        });

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Starts (again) on the same port.</summary>
    public async Task RestartAsync()
    {
        var start = new ProcessStartInfo(Executable)
        {
            ArgumentList = { "-a", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-l", Path.Join(_dir, "server.log") },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (JetStream)
        {
            start.ArgumentList.Add("-js");
            start.ArgumentList.Add("-sd");
            start.ArgumentList.Add(Path.Join(_dir, "jetstream"));
        }

        if (_config is not null)
        {
            string file = Path.Join(_dir, "server.conf");
            File.WriteAllText(file, _config);
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(file);
        }
        _process = Process.Start(start) ?? throw new InvalidOperationException("nats-server did not start");
        lock (s_live)
        {
            s_live.Add(this);
        }

        long begin = Stopwatch.GetTimestamp();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                if (ListeningPerLog())
                {
                    return;
                }

                // Something answers on the port, but our server has not said it listens there: maybe another test's
                // server got the same port and ours is about to exit with "address already in use".
                throw new SocketException((int)SocketError.AddressAlreadyInUse);
            }
            catch (SocketException) when (Stopwatch.GetElapsedTime(begin) < TimeSpan.FromSeconds(10) && !_process.HasExited)
            {
                await Task.Delay(20); // polling for the port to open, with a deadline
            }
            catch (SocketException ex)
            {
                string log = File.Exists(Path.Join(_dir, "server.log")) ? File.ReadAllText(Path.Join(_dir, "server.log")) : "";
                if (_process.HasExited && log.Contains("address already in use", StringComparison.Ordinal))
                {
                    throw new PortTakenException($"nats-server could not bind a port it was given (taken since it was picked):\n{log}", ex);
                }

                throw new InvalidOperationException($"nats-server did not open port {Port} within 10 s: {ex.Message}\n{log}", ex);
            }
        }
    }

    /// <summary>True when this server's own log says it listens for clients on <see cref="Port"/>.</summary>
    private bool ListeningPerLog()
    {
        string log = Path.Join(_dir, "server.log");
        if (!File.Exists(log))
        {
            return false;
        }

        using var reader = new StreamReader(new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
        return reader.ReadToEnd().Contains($"Listening for client connections on 127.0.0.1:{Port}", StringComparison.Ordinal);
    }

    /// <summary>The server's own log so far (for failure messages).</summary>
    public string ReadLog()
    {
        string log = Path.Join(_dir, "server.log");
        if (!File.Exists(log))
        {
            return "";
        }

        using var reader = new StreamReader(new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
        return reader.ReadToEnd();
    }

    /// <summary>Kills the server (as a crash would).</summary>
    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }

        _process?.Dispose();
        _process = null;
    }

    public void Dispose()
    {
        Kill();
        lock (s_live)
        {
            s_live.Remove(this);
        }

        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true); // a server shared with a Cluster is disposed by both
        }
    }
}

/// <summary>A port picked for nats-server was taken before the server could bind it; <see cref="NatsServer.WithFreshPortsAsync{T}"/> retries.</summary>
public sealed class PortTakenException(string message, Exception inner) : Exception(message, inner);
