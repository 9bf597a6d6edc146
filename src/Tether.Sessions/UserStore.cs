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
public sealed partial class UserStore : IAsyncDisposable
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
}
