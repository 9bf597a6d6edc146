using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Tether.Demo.Tests;

/// <summary>
/// A real PostgreSQL server for the tests: initdb into a temp folder (as user postgres when run as root), started on a free
/// loopback port with trust authentication and fsync off, stopped and deleted at the end. A missing PostgreSQL is a clear
/// error; it never skips.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("tether-pg-").FullName;
    private string? _bin;

    public int Port { get; private set; }

    public string ConnectionString(string database) => $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=false";

    /// <summary>A new, empty database; each test takes its own.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        string name = "demo_" + Guid.NewGuid().ToString("N")[..12];
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using NpgsqlCommand create = connection.CreateCommand();
        create.CommandText = $"CREATE DATABASE {name}";
        await create.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    public async Task InitializeAsync()
    {
        _bin = FindBin();
        string data = Path.Join(_folder, "data");
        if (Environment.UserName == "root")
        {
            // PostgreSQL refuses to run as root: the folder goes to user postgres, which runs initdb and the server.
            await RunAsync("chown", ["-R", "postgres:postgres", _folder], asPostgres: false);
        }

        await RunAsync(Path.Join(_bin, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"], asPostgres: true);
        Port = FreePort();
        await RunAsync(
            Path.Join(_bin, "pg_ctl"),
            ["-D", data, "-l", Path.Join(_folder, "server.log"), "-w", "-t", "60", "-o", $"-p {Port} -c listen_addresses=127.0.0.1 -k {_folder} -c fsync=off", "start"],
            asPostgres: true);
    }

    public async Task DisposeAsync()
    {
        try
        {
            if (_bin is not null && Port != 0)
            {
                await RunAsync(Path.Join(_bin, "pg_ctl"), ["-D", Path.Join(_folder, "data"), "-m", "immediate", "-w", "stop"], asPostgres: true);
            }
        }
        finally
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private static string FindBin()
    {
        if (Directory.Exists("/usr/lib/postgresql"))
        {
            string? newest = Directory.EnumerateDirectories("/usr/lib/postgresql")
                .Where(d => File.Exists(Path.Join(d, "bin", "pg_ctl")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out int v) ? v : 0)
                .FirstOrDefault();
            if (newest is not null)
            {
                return Path.Join(newest, "bin");
            }
        }

        throw new InvalidOperationException("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/pg_ctl): run `apt-get install postgresql` (scripts/test.sh does it) — the supplier's PostgreSQL tests need a real server.");
    }

    private static async Task RunAsync(string file, string[] arguments, bool asPostgres)
    {
        var start = new ProcessStartInfo(asPostgres && Environment.UserName == "root" ? "runuser" : file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/",
        };
        if (asPostgres && Environment.UserName == "root")
        {
            foreach (string a in new[] { "-u", "postgres", "--", file })
            {
                start.ArgumentList.Add(a);
            }
        }

        foreach (string a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish within 120 s");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed with code {process.ExitCode}:\n{await output}\n{await error}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
