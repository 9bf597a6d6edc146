using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Tether.Testing;

/// <summary>
/// A real PostgreSQL server for a test run: initdb into a temp dir (as user postgres when running as root), pg_ctl start
/// on 127.0.0.1 and a free port with fsync off, stopped and deleted at the end (also at process exit). Missing binaries
/// are a clear error naming the Debian package; it never skips.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    private static readonly HashSet<PostgresServer> s_live = [];

    private readonly string _dir;
    private readonly string _bin;
    private readonly bool _asPostgres;
    private bool _stopped;

    static PostgresServer() => AppDomain.CurrentDomain.ProcessExit += static (_, _) =>
    {
        PostgresServer[] left;
        lock (s_live)
        {
            left = [.. s_live];
        }

        foreach (PostgresServer server in left)
        {
            server.Dispose();
        }
    };

    private PostgresServer(string bin, string dir, int port, bool asPostgres)
    {
        _bin = bin;
        _dir = dir;
        Port = port;
        _asPostgres = asPostgres;
    }

    public int Port { get; }

    /// <summary>The connection string of database <paramref name="database"/> as the superuser postgres (trust authentication).</summary>
    public string ConnectionString(string database = "postgres")
        => $"Host=127.0.0.1;Port={Port.ToString(CultureInfo.InvariantCulture)};Username=postgres;Database={database};Pooling=true;Timeout=30";

    /// <summary>Creates a new, empty database (a test takes its own) and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "test")
    {
        string name = prefix + "_" + Guid.NewGuid().ToString("N")[..12];
        await using var connection = new NpgsqlConnection(ConnectionString());
        await connection.OpenAsync();
        await using NpgsqlCommand create = connection.CreateCommand();
        create.CommandText = $"CREATE DATABASE {name}";
        await create.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    public static string BinDirectory
    {
        get
        {
            string root = "/usr/lib/postgresql";
            string? bin = Directory.Exists(root)
                ? Directory.GetDirectories(root).Select(d => Path.Join(d, "bin")).Where(d => File.Exists(Path.Join(d, "initdb")) && File.Exists(Path.Join(d, "pg_ctl")))
                    .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : 0).FirstOrDefault()
                : null;
            return bin ?? throw new InvalidOperationException(
                "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run `apt-get install postgresql` (scripts/test.sh does it) — the user store tests need a real server.");
        }
    }

    public static async Task<PostgresServer> StartAsync()
    {
        string bin = BinDirectory;
        bool root = Environment.UserName == "root";
        string dir = Directory.CreateTempSubdirectory("tether-pg-").FullName;
        var server = new PostgresServer(bin, dir, FreePort(), root);
        try
        {
            if (root)
            {
                await RunAsync("chown", ["-R", "postgres:postgres", dir]);
            }

            string data = Path.Join(dir, "data");
            await server.RunPgAsync("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8"]);
            lock (s_live)
            {
                s_live.Add(server);
            }

            string options = $"-p {server.Port.ToString(CultureInfo.InvariantCulture)} -c listen_addresses=127.0.0.1 -k {dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
            await server.RunPgAsync("pg_ctl", ["-D", data, "-l", Path.Join(dir, "server.log"), "-o", options, "-w", "-t", "60", "start"]);
            return server;
        }
        catch (Exception ex)
        {
            string log = File.Exists(Path.Join(dir, "server.log")) ? File.ReadAllText(Path.Join(dir, "server.log")) : "";
            server.Dispose();
            throw new InvalidOperationException($"PostgreSQL did not start: {ex.Message}\n{log}", ex);
        }
    }

    public void Dispose()
    {
        lock (s_live)
        {
            s_live.Remove(this);
        }

        if (!_stopped)
        {
            _stopped = true;
            try
            {
                RunPgAsync("pg_ctl", ["-D", Path.Join(_dir, "data"), "-m", "immediate", "-w", "-t", "30", "stop"]).GetAwaiter().GetResult();
            }
            catch (InvalidOperationException)
            {
                // not running (start failed): nothing to stop
            }
        }

        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private Task RunPgAsync(string tool, string[] arguments)
        => _asPostgres
            ? RunAsync("runuser", ["-u", "postgres", "--", Path.Join(_bin, tool), .. arguments])
            : RunAsync(Path.Join(_bin, tool), arguments);

    private static async Task RunAsync(string file, string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/tmp" };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(deadline.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await output}{await error}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
