using Tether.Sessions.Internal;

namespace Tether.Sessions;

/// <summary>
/// The session manager: a target registered as a service (default "sessions") that logs users in against the user store
/// (BCrypt), signs session tokens, verifies, renews and revokes sessions, and administers users. Start any number of
/// instances, on any nodes, on the same store. Its messages are <see cref="Login"/>, <see cref="VerifySession"/>,
/// <see cref="RenewSession"/>, <see cref="Logout"/>, and (needing <see cref="AdminRight"/>) <see cref="CreateUser"/>,
/// <see cref="SetPassword"/>, <see cref="GrantRight"/>, <see cref="RevokeRight"/>, <see cref="DisableUser"/>,
/// <see cref="EnableUser"/>, <see cref="ListUsers"/>.
/// </summary>
/// <remarks>
/// Its mailbox only dispatches: store access runs on the thread pool and BCrypt on dedicated hashing threads
/// (<see cref="SessionManagerOptions.HashingThreads"/>), so a storm of logins never delays a verification.
/// A user with <see cref="SessionManagerOptions.FailuresBeforeDelay"/> failed logins in a row (counted in the store, so
/// across instances) has each next attempt answered only after <see cref="SessionManagerOptions.DelayAfter"/> (a timer:
/// nobody else waits); a success resets the count. An unknown user is checked against a dummy hash, so it costs what a
/// wrong password costs, and gets the same answer.
/// </remarks>
public sealed class SessionManager : IAsyncDisposable
{
    /// <summary>The default service name, "sessions".</summary>
    public const string DefaultServiceName = "sessions";

    /// <summary>The default revocation topic, "tether.sessions.revoked".</summary>
    public const string DefaultRevocationTopic = "tether.sessions.revoked";

    /// <summary>The right the administration messages require, "sessions.admin".</summary>
    public const string AdminRight = "sessions.admin";

    private readonly Node _node;
    private readonly SessionService _service;
    private int _disposed;

    private SessionManager(Node node, Address address, UserStore users, SessionService service)
    {
        _node = node;
        Address = address;
        Users = users;
        _service = service;
    }

    /// <summary>The manager's target.</summary>
    public Address Address { get; }

    /// <summary>The user store it serves from (for administration in the same process).</summary>
    public UserStore Users { get; }

    /// <summary>The settings it runs with.</summary>
    public SessionManagerOptions Options => _service.Options;

    internal SessionService Service => _service;

    /// <summary>
    /// Opens (and migrates) the user store, spawns the manager on <paramref name="node"/> and registers it as the service
    /// <see cref="SessionManagerOptions.ServiceName"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The options are not valid (the message names the setting).</exception>
    /// <exception cref="InvalidOperationException">The user store cannot be opened or migrated.</exception>
    public static async Task<SessionManager> StartAsync(Node node, SessionManagerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        UserStore store = options.PostgresConnectionString is { } postgres
            ? await UserStore.OpenPostgresAsync(postgres, cancellationToken).ConfigureAwait(false)
            : await UserStore.OpenSqliteAsync(options.SqlitePath, cancellationToken).ConfigureAwait(false);
        var service = new SessionService(node, options, store);
        try
        {
            Address address = node.Spawn(() => new SessionManagerTarget(service));
            node.RegisterService(options.ServiceName, address);
            return new SessionManager(node, address, store, service);
        }
        catch
        {
            service.Dispose();
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Ends the manager's target, stops its hashing threads and closes the store.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _node.UnregisterService(Options.ServiceName, Address);
        _node.End(Address);
        _service.Dispose();
        await Users.DisposeAsync().ConfigureAwait(false);
    }
}
