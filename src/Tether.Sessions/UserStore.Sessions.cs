using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using Tether.Sessions.Internal;

namespace Tether.Sessions;

// UserStore, part: the rows the session manager works with (credentials, login outcomes, sessions, revocations).
public sealed partial class UserStore
{
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
}
