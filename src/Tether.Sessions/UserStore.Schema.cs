using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using Tether.Sessions.Internal;

namespace Tether.Sessions;

// UserStore, part: the schema, its forward migrations, and the connection and command helpers both databases share.
public sealed partial class UserStore
{
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
