using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using Tether.Sessions.Internal;

namespace Tether.Sessions;

/// <summary>
/// The user database: users, their BCrypt password hashes and rights, and sessions. SQLite by default (a file created
/// with its schema on first open, no setup), PostgreSQL when given a connection string. The schema is versioned
/// (table <c>schema_version</c>) and migrated forward when the store is opened. Every statement is parameterised;
/// user names and rights are stored and compared verbatim (ordinal).
/// </summary>
/// <remarks>
/// Errors are <see cref="TetherException"/>s: <see cref="SessionErrorCodes.NoSuchUser"/>,
/// <see cref="SessionErrorCodes.UserExists"/>, or <see cref="ErrorCodes.BadRequest"/> for an empty or unusable name,
/// right or password (the text never contains a password). The password methods hash on the calling thread
/// (BCrypt is slow on purpose); the session manager calls them on its hashing workers.
/// </remarks>
public sealed class UserStore : IAsyncDisposable
{
    /// <summary>The schema version this code migrates to.</summary>
    public const int LatestSchemaVersion = 2;

    private readonly bool _postgres;
    private readonly string _description;
    private readonly NpgsqlDataSource? _dataSource;
    private readonly string? _sqliteConnectionString;

    private UserStore(bool postgres, string description, NpgsqlDataSource? dataSource, string? sqliteConnectionString)
    {
        _postgres = postgres;
        _description = description;
        _dataSource = dataSource;
        _sqliteConnectionString = sqliteConnectionString;
    }

    /// <summary>The schema version of the database after opening (migrations included).</summary>
    public int SchemaVersion { get; private set; }

    /// <summary>Opens (creating it when missing) the SQLite database file at <paramref name="path"/> and migrates it.</summary>
    /// <exception cref="InvalidOperationException">The file cannot be opened as a user store (the message names the path).</exception>
    public static Task<UserStore> OpenSqliteAsync(string path, CancellationToken cancellationToken = default)
        => OpenSqliteAsync(path, LatestSchemaVersion, cancellationToken);

    /// <summary>Opens the PostgreSQL database of <paramref name="connectionString"/> (which must exist) and migrates it.</summary>
    /// <exception cref="InvalidOperationException">The database cannot be reached or migrated (the message names the host and database, never the password).</exception>
    public static Task<UserStore> OpenPostgresAsync(string connectionString, CancellationToken cancellationToken = default)
        => OpenPostgresAsync(connectionString, LatestSchemaVersion, cancellationToken);

    internal static async Task<UserStore> OpenSqliteAsync(string path, int schemaVersion, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = Path.GetFullPath(path);
        string? directory = Path.GetDirectoryName(full);
        if (directory is not null && !Directory.Exists(directory))
        {
            throw new InvalidOperationException($"The user store {full} cannot be created: the directory {directory} does not exist.");
        }

        string connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = full,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        var store = new UserStore(postgres: false, $"SQLite {full}", null, connectionString);
        await store.InitializeAsync(schemaVersion, cancellationToken).ConfigureAwait(false);
        return store;
    }

    internal static async Task<UserStore> OpenPostgresAsync(string connectionString, int schemaVersion, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidOperationException($"The PostgreSQL connection string is not valid: {ex.Message}", ex);
        }

        NpgsqlDataSource dataSource = NpgsqlDataSource.Create(builder);
        var store = new UserStore(postgres: true, $"PostgreSQL {builder.Host}:{builder.Port}/{builder.Database}", dataSource, null);
        try
        {
            await store.InitializeAsync(schemaVersion, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return store;
    }

    /// <summary>Creates a user with a password (hashed here with BCrypt at <paramref name="workFactor"/>) and rights.</summary>
    public Task<UserInfo> CreateUserAsync(string userName, string password, IEnumerable<string>? rights = null, int workFactor = 12, CancellationToken cancellationToken = default)
    {
        Passwords.CheckUserName(userName);
        Passwords.CheckPassword(password);
        Passwords.CheckWorkFactor(workFactor);
        string[] checkedRights = CheckRights(rights);
        return CreateUserWithHashAsync(userName, Passwords.Hash(password, workFactor), checkedRights, cancellationToken);
    }

    /// <summary>Sets a user's password (hashed here with BCrypt at <paramref name="workFactor"/>) and clears its failed-login count.</summary>
    public Task<UserInfo> SetPasswordAsync(string userName, string password, int workFactor = 12, CancellationToken cancellationToken = default)
    {
        Passwords.CheckUserName(userName);
        Passwords.CheckPassword(password);
        Passwords.CheckWorkFactor(workFactor);
        return SetPasswordHashAsync(userName, Passwords.Hash(password, workFactor), cancellationToken);
    }

    /// <summary>Grants <paramref name="right"/> to a user (granting a held right changes nothing). New sessions carry it.</summary>
    public async Task<UserInfo> GrantAsync(string userName, string right, CancellationToken cancellationToken = default)
    {
        Passwords.CheckUserName(userName);
        Passwords.CheckRight(right);
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        string userId = await RequireUserIdAsync(connection, userName, cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, "INSERT INTO user_rights (user_id, right_name) VALUES (@id, @right) ON CONFLICT (user_id, right_name) DO NOTHING", cancellationToken, ("id", userId), ("right", right)).ConfigureAwait(false);
        return (await FindUserAsync(connection, userName, cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>Takes <paramref name="right"/> from a user. Sessions already made keep it until they are renewed or end.</summary>
    public async Task<UserInfo> RevokeAsync(string userName, string right, CancellationToken cancellationToken = default)
    {
        Passwords.CheckUserName(userName);
        Passwords.CheckRight(right);
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        string userId = await RequireUserIdAsync(connection, userName, cancellationToken).ConfigureAwait(false);
        int removed = await ExecuteAsync(connection, "DELETE FROM user_rights WHERE user_id = @id AND right_name = @right", cancellationToken, ("id", userId), ("right", right)).ConfigureAwait(false);
        if (removed == 0)
        {
            throw new TetherException(ErrorCodes.BadRequest, $"User \"{userName}\" does not hold the right \"{right}\".");
        }

        return (await FindUserAsync(connection, userName, cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>
    /// Disables a user: it can no longer log in, and its sessions are marked revoked in the store. Through the session
    /// manager (<see cref="DisableUser"/>) the revocation also reaches every node's verifier at once.
    /// </summary>
    public async Task<UserInfo> DisableAsync(string userName, CancellationToken cancellationToken = default)
        => (await DisableAndRevokeAsync(userName, DateTimeOffset.UtcNow, cancellationToken).ConfigureAwait(false)).User;

    /// <summary>Enables a disabled user again (its revoked sessions stay revoked).</summary>
    public async Task<UserInfo> EnableAsync(string userName, CancellationToken cancellationToken = default)
    {
        Passwords.CheckUserName(userName);
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        string userId = await RequireUserIdAsync(connection, userName, cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, "UPDATE users SET disabled = 0, failed_logins = 0 WHERE user_id = @id", cancellationToken, ("id", userId)).ConfigureAwait(false);
        return (await FindUserAsync(connection, userName, cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>The user named <paramref name="userName"/> (verbatim), or null.</summary>
    public async Task<UserInfo?> FindUserAsync(string userName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(userName);
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await FindUserAsync(connection, userName, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every user, ordered by name (ordinal).</summary>
    public async Task<IReadOnlyList<UserInfo>> ListUsersAsync(CancellationToken cancellationToken = default)
    {
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var rights = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        await using (DbCommand command = Command(connection, "SELECT user_id, right_name FROM user_rights"))
        await using (DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                string id = reader.GetString(0);
                if (!rights.TryGetValue(id, out List<string>? list))
                {
                    rights[id] = list = [];
                }

                list.Add(reader.GetString(1));
            }
        }

        var users = new List<UserInfo>();
        await using (DbCommand command = Command(connection, "SELECT user_id, user_name, disabled, created_at FROM users"))
        await using (DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                string id = reader.GetString(0);
                string[] held = rights.TryGetValue(id, out List<string>? list) ? [.. list] : [];
                Array.Sort(held, StringComparer.Ordinal);
                users.Add(new UserInfo(id, reader.GetString(1), held, Int(reader, 2) != 0, FromMs(Long(reader, 3))));
            }
        }

        users.Sort(static (a, b) => string.CompareOrdinal(a.UserName, b.UserName));
        return users;
    }

    /// <inheritdoc />
    public override string ToString() => $"user store ({_description}, schema {SchemaVersion})";

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }
    }

    internal async Task<UserInfo> CreateUserWithHashAsync(string userName, string passwordHash, string[] rights, CancellationToken cancellationToken)
    {
        Passwords.CheckUserName(userName);
        string userId = Guid.CreateVersion7().ToString("N");
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using DbTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        int inserted = await ExecuteAsync(
            connection,
            "INSERT INTO users (user_id, user_name, password_hash, disabled, created_at, failed_logins) VALUES (@id, @name, @hash, 0, @now, 0) ON CONFLICT (user_name) DO NOTHING",
            cancellationToken,
            ("id", userId),
            ("name", userName),
            ("hash", passwordHash),
            ("now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())).ConfigureAwait(false);
        if (inserted == 0)
        {
            throw new TetherException(SessionErrorCodes.UserExists, $"A user named \"{userName}\" exists already.");
        }

        foreach (string right in rights)
        {
            await ExecuteAsync(connection, "INSERT INTO user_rights (user_id, right_name) VALUES (@id, @right) ON CONFLICT (user_id, right_name) DO NOTHING", cancellationToken, ("id", userId), ("right", right)).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return (await FindUserAsync(connection, userName, cancellationToken).ConfigureAwait(false))!;
    }

    internal async Task<UserInfo> SetPasswordHashAsync(string userName, string passwordHash, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        int updated = await ExecuteAsync(connection, "UPDATE users SET password_hash = @hash, failed_logins = 0 WHERE user_name = @name", cancellationToken, ("hash", passwordHash), ("name", userName)).ConfigureAwait(false);
        return updated == 0
            ? throw NoSuchUser(userName)
            : (await FindUserAsync(connection, userName, cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>What a login needs: the user, its hash and its count of failed logins since the last success; null when unknown.</summary>
    internal async Task<(UserInfo User, string PasswordHash, int FailedLogins)?> GetCredentialsAsync(string userName, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        UserInfo? user = await FindUserAsync(connection, userName, cancellationToken).ConfigureAwait(false);
        if (user is null)
        {
            return null;
        }

        await using DbCommand command = Command(connection, "SELECT password_hash, failed_logins FROM users WHERE user_id = @id", ("id", user.UserId));
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? (user, reader.GetString(0), Int(reader, 1)) : null;
    }

    internal async Task RecordLoginOutcomeAsync(string userId, bool success, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(
            connection,
            success ? "UPDATE users SET failed_logins = 0 WHERE user_id = @id" : "UPDATE users SET failed_logins = failed_logins + 1 WHERE user_id = @id",
            cancellationToken,
            ("id", userId)).ConfigureAwait(false);
    }

    internal async Task CreateSessionAsync(string sessionId, string userId, DateTimeOffset createdAt, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(
            connection,
            "INSERT INTO sessions (session_id, user_id, created_at, expires_at, revoked_at) VALUES (@sid, @uid, @created, @expires, NULL)",
            cancellationToken,
            ("sid", sessionId),
            ("uid", userId),
            ("created", createdAt.ToUnixTimeMilliseconds()),
            ("expires", expiresAt.ToUnixTimeMilliseconds())).ConfigureAwait(false);
    }

    /// <summary>A session as the store knows it, or null when it never existed.</summary>
    internal async Task<StoredSession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using DbCommand command = Command(
            connection,
            "SELECT s.user_id, s.expires_at, s.revoked_at, u.disabled, u.user_name FROM sessions s JOIN users u ON u.user_id = s.user_id WHERE s.session_id = @sid",
            ("sid", sessionId));
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return new StoredSession(sessionId, reader.GetString(0), reader.GetString(4), FromMs(Long(reader, 1)), reader.IsDBNull(2) ? null : FromMs(Long(reader, 2)), Int(reader, 3) != 0);
    }

    internal async Task ExtendSessionAsync(string sessionId, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, "UPDATE sessions SET expires_at = @expires WHERE session_id = @sid AND revoked_at IS NULL", cancellationToken, ("expires", expiresAt.ToUnixTimeMilliseconds()), ("sid", sessionId)).ConfigureAwait(false);
    }

    /// <summary>Marks a session revoked; false when it was unknown or revoked already.</summary>
    internal async Task<bool> RevokeSessionAsync(string sessionId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ExecuteAsync(connection, "UPDATE sessions SET revoked_at = @now WHERE session_id = @sid AND revoked_at IS NULL", cancellationToken, ("now", now.ToUnixTimeMilliseconds()), ("sid", sessionId)).ConfigureAwait(false) > 0;
    }

    /// <summary>Disables a user and revokes its live sessions; returns the user and the sessions it revoked.</summary>
    internal async Task<(UserInfo User, IReadOnlyList<RevokedSession> Revoked)> DisableAndRevokeAsync(string userName, DateTimeOffset now, CancellationToken cancellationToken)
    {
        Passwords.CheckUserName(userName);
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        string userId = await RequireUserIdAsync(connection, userName, cancellationToken).ConfigureAwait(false);
        await using DbTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, "UPDATE users SET disabled = 1 WHERE user_id = @id", cancellationToken, ("id", userId)).ConfigureAwait(false);
        var revoked = new List<RevokedSession>();
        await using (DbCommand command = Command(
            connection,
            "UPDATE sessions SET revoked_at = @now WHERE user_id = @id AND revoked_at IS NULL AND expires_at > @now RETURNING session_id, expires_at",
            ("now", now.ToUnixTimeMilliseconds()),
            ("id", userId)))
        await using (DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                revoked.Add(new RevokedSession(reader.GetString(0), FromMs(Long(reader, 1))));
            }
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return ((await FindUserAsync(connection, userName, cancellationToken).ConfigureAwait(false))!, revoked);
    }

    /// <summary>Every revoked session that has not expired yet: the state the revocation topic carries.</summary>
    internal async Task<IReadOnlyList<RevokedSession>> ListRevokedAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using DbCommand command = Command(connection, "SELECT session_id, expires_at FROM sessions WHERE revoked_at IS NOT NULL AND expires_at > @now ORDER BY session_id", ("now", now.ToUnixTimeMilliseconds()));
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var revoked = new List<RevokedSession>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            revoked.Add(new RevokedSession(reader.GetString(0), FromMs(Long(reader, 1))));
        }

        return revoked;
    }

    /// <summary>Migrates to <paramref name="target"/> (not beyond): tests open an old schema this way.</summary>
    private async Task InitializeAsync(int target, CancellationToken cancellationToken)
    {
        try
        {
            await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            if (!_postgres)
            {
                await ExecuteAsync(connection, "PRAGMA journal_mode=WAL", cancellationToken).ConfigureAwait(false);
            }

            await using DbTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            if (_postgres)
            {
                // Several session managers may start at once on one database: one migrates, the others wait and find it done.
                await ExecuteAsync(connection, "SELECT pg_advisory_xact_lock(7415006)", cancellationToken).ConfigureAwait(false);
            }

            await ExecuteAsync(connection, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", cancellationToken).ConfigureAwait(false);
            int version;
            await using (DbCommand command = Command(connection, "SELECT MAX(version) FROM schema_version"))
            {
                object? value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                version = value is null or DBNull ? 0 : Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture);
            }

            if (version > LatestSchemaVersion)
            {
                throw new InvalidOperationException($"The user store ({_description}) has schema version {version}; this Tether.Sessions knows versions up to {LatestSchemaVersion}. Use a newer Tether.Sessions.");
            }

            for (int next = version + 1; next <= target; next++)
            {
                foreach (string statement in Migrations[next - 1])
                {
                    await ExecuteAsync(connection, statement, cancellationToken).ConfigureAwait(false);
                }

                await ExecuteAsync(connection, "DELETE FROM schema_version", cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, "INSERT INTO schema_version (version) VALUES (@v)", cancellationToken, ("v", next)).ConfigureAwait(false);
                version = next;
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            SchemaVersion = version;
        }
        catch (DbException ex)
        {
            throw new InvalidOperationException($"The user store ({_description}) could not be opened or migrated: {ex.Message}", ex);
        }
    }

    /// <summary>The migrations, in order: the statements of version N are at index N - 1. Portable SQL (SQLite and PostgreSQL).</summary>
    private static readonly string[][] Migrations =
    [
        [
            "CREATE TABLE users (user_id TEXT PRIMARY KEY, user_name TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0, created_at BIGINT NOT NULL)",
            "CREATE TABLE user_rights (user_id TEXT NOT NULL REFERENCES users (user_id), right_name TEXT NOT NULL, PRIMARY KEY (user_id, right_name))",
        ],
        [
            "CREATE TABLE sessions (session_id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users (user_id), created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, revoked_at BIGINT NULL)",
            "CREATE INDEX sessions_by_user ON sessions (user_id)",
            "CREATE INDEX sessions_by_revocation ON sessions (revoked_at)",
            "ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0",
        ],
    ];

    private async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        DbConnection connection = _postgres ? _dataSource!.CreateConnection() : new SqliteConnection(_sqliteConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch (DbException ex)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException($"The user store ({_description}) cannot be opened: {ex.Message}", ex);
        }
    }

    private static async Task<UserInfo?> FindUserAsync(DbConnection connection, string userName, CancellationToken cancellationToken)
    {
        string id;
        string name;
        bool disabled;
        long created;
        await using (DbCommand command = Command(connection, "SELECT user_id, user_name, disabled, created_at FROM users WHERE user_name = @name", ("name", userName)))
        await using (DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            id = reader.GetString(0);
            name = reader.GetString(1);
            disabled = Int(reader, 2) != 0;
            created = Long(reader, 3);
        }

        var rights = new List<string>();
        await using (DbCommand command = Command(connection, "SELECT right_name FROM user_rights WHERE user_id = @id", ("id", id)))
        await using (DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rights.Add(reader.GetString(0));
            }
        }

        rights.Sort(StringComparer.Ordinal);
        return new UserInfo(id, name, rights, disabled, FromMs(created));
    }

    private static async Task<string> RequireUserIdAsync(DbConnection connection, string userName, CancellationToken cancellationToken)
    {
        await using DbCommand command = Command(connection, "SELECT user_id FROM users WHERE user_name = @name", ("name", userName));
        object? id = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return id as string ?? throw NoSuchUser(userName);
    }

    private static TetherException NoSuchUser(string userName) => new(SessionErrorCodes.NoSuchUser, $"No user is named \"{userName}\".");

    private static string[] CheckRights(IEnumerable<string>? rights)
    {
        if (rights is null)
        {
            return [];
        }

        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string right in rights)
        {
            Passwords.CheckRight(right);
            set.Add(right);
        }

        return [.. set];
    }

    private static async Task<int> ExecuteAsync(DbConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using DbCommand command = Command(connection, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static DbCommand Command(DbConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        DbCommand command = connection.CreateCommand();
#pragma warning disable CA2100 // the SQL is constant text of this file; every value is a parameter
        command.CommandText = sql;
#pragma warning restore CA2100
        foreach ((string name, object value) in parameters)
        {
            DbParameter parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        return command;
    }

    private static long Long(DbDataReader reader, int ordinal) => Convert.ToInt64(reader.GetValue(ordinal), System.Globalization.CultureInfo.InvariantCulture);

    private static int Int(DbDataReader reader, int ordinal) => Convert.ToInt32(reader.GetValue(ordinal), System.Globalization.CultureInfo.InvariantCulture);

    private static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);
}
