using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Tether.Sessions.Tests;

/// <summary>Polls a condition until it holds, failing with the phase's name after a deadline (never a bare sleep).</summary>
internal static class Eventually
{
    public static async Task Until(Func<Task<bool>> condition, string phase, TimeSpan deadline)
    {
        long start = Stopwatch.GetTimestamp();
        while (!await condition())
        {
            Assert.True(Stopwatch.GetElapsedTime(start) < deadline, $"timed out after {deadline.TotalSeconds} s waiting for: {phase}");
            await Task.Delay(5); // polling a condition with a deadline
        }
    }
}

/// <summary>A temp directory deleted at the end.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Path = Directory.CreateTempSubdirectory("tether-sessions-").FullName;

    public string Path { get; }

    public string File(string name) => System.IO.Path.Join(Path, name);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools(); // pooled connections hold the file open
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A clock the test moves.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private long _ticks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}

/// <summary>Where a test's user store lives: a fresh SQLite file or a fresh PostgreSQL database.</summary>
public abstract class StoreKind : IDisposable
{
    public abstract string Name { get; }

    /// <summary>Options pointing a session manager at this store.</summary>
    public abstract SessionManagerOptions Configure(SessionManagerOptions options);

    public abstract Task<UserStore> OpenAsync(int schemaVersion = UserStore.LatestSchemaVersion);

    /// <summary>Runs raw SQL against the store's database (tests only: to shape an old schema's data).</summary>
    public abstract Task ExecuteAsync(string sql);

    public abstract void Dispose();
}

internal sealed class SqliteKind : StoreKind
{
    private readonly TempDir _dir = new();

    public override string Name => "sqlite";

    public string FilePath => _dir.File("users.db");

    public override SessionManagerOptions Configure(SessionManagerOptions options) => options with { SqlitePath = FilePath };

    public override Task<UserStore> OpenAsync(int schemaVersion) => UserStore.OpenSqliteAsync(FilePath, schemaVersion, CancellationToken.None);

    public override async Task ExecuteAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={FilePath}");
        await connection.OpenAsync();
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    public override void Dispose() => _dir.Dispose();
}

internal sealed class PostgresKind : StoreKind
{
    private readonly string _connectionString;

    public PostgresKind(PostgresServer server)
    {
        string database = "t_" + Guid.NewGuid().ToString("N");
        using (var connection = new NpgsqlConnection(server.ConnectionString()))
        {
            connection.Open();
            using NpgsqlCommand command = connection.CreateCommand();
            command.CommandText = $"CREATE DATABASE {database}";
            command.ExecuteNonQuery();
        }

        _connectionString = server.ConnectionString(database);
    }

    public override string Name => "postgres";

    public override SessionManagerOptions Configure(SessionManagerOptions options) => options with { PostgresConnectionString = _connectionString };

    public override Task<UserStore> OpenAsync(int schemaVersion) => UserStore.OpenPostgresAsync(_connectionString, schemaVersion, CancellationToken.None);

    public override async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using NpgsqlCommand command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    public override void Dispose()
    {
    }
}

[CollectionDefinition("postgres")]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
}

/// <summary>
/// A node with a session verifier and a session manager on a store, an administrator ("admin", right sessions.admin) and
/// its token. Work factor 4 unless a test says otherwise.
/// </summary>
internal sealed class Sessions : IAsyncDisposable
{
    public const string AdminPassword = "admin-pass-4711";

    private Sessions(Node node, SessionVerifier verifier, SessionManager manager, SessionKeys keys)
    {
        Node = node;
        Verifier = verifier;
        Manager = manager;
        Keys = keys;
    }

    public Node Node { get; }

    public SessionVerifier Verifier { get; }

    public SessionManager Manager { get; }

    public SessionKeys Keys { get; }

    public string AdminToken { get; private set; } = "";

    public static async Task<Sessions> StartAsync(StoreKind store, Func<SessionManagerOptions, SessionManagerOptions>? configure = null, SessionKeys? keys = null, Microsoft.Extensions.Logging.ILoggerFactory? logging = null)
    {
        keys ??= SessionKeys.Generate();
        var verifier = new SessionVerifier(keys.PublicOnly());
        Node node = Node.Create(new NodeOptions { Sessions = verifier, LoggerFactory = logging ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance });
        verifier.Attach(node);
        SessionManagerOptions options = store.Configure(new SessionManagerOptions { Keys = keys, WorkFactor = 4, RevocationPollInterval = TimeSpan.FromMilliseconds(200) });
        options = configure?.Invoke(options) ?? options;
        SessionManager manager = await SessionManager.StartAsync(node, options);
        var sessions = new Sessions(node, verifier, manager, keys);
        if (await manager.Users.FindUserAsync("admin") is null)
        {
            await manager.Users.CreateUserAsync("admin", AdminPassword, [SessionManager.AdminRight], workFactor: 4);
        }

        sessions.AdminToken = (await sessions.LoginAsync("admin", AdminPassword)).Token;
        return sessions;
    }

    public ValueTask<LoginResult> LoginAsync(string user, string password) => Node.Request("sessions", new Login(user, password), TimeSpan.FromSeconds(60));

    public ValueTask<T> AdminAsync<T>(IRequest<T> request) => Node.Request("sessions", request, TimeSpan.FromSeconds(60), session: AdminToken);

    public async ValueTask DisposeAsync()
    {
        await Manager.DisposeAsync();
        await Node.DisposeAsync();
    }
}
