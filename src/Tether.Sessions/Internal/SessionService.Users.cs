namespace Tether.Sessions.Internal;

// SessionService, part: user administration as messages (create, password, grant, revoke, enable, disable, list).
internal sealed partial class SessionService
{
    public async Task<UserInfo> CreateUserAsync(CreateUser request)
    {
        Passwords.CheckUserName(request.UserName);
        Passwords.CheckPassword(request.Password);
        var rights = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string right in request.Rights ?? [])
        {
            Passwords.CheckRight(right);
            rights.Add(right);
        }

        string hash = await _hasher.HashAsync(request.Password, _options.WorkFactor).ConfigureAwait(false);
        UserInfo user = await _store.CreateUserWithHashAsync(request.UserName, hash, [.. rights], CancellationToken.None).ConfigureAwait(false);
        LogUserChanged(_logger, user.UserName, "created");
        return user;
    }

    public async Task<UserInfo> SetPasswordAsync(SetPassword request)
    {
        Passwords.CheckUserName(request.UserName);
        Passwords.CheckPassword(request.Password);
        string hash = await _hasher.HashAsync(request.Password, _options.WorkFactor).ConfigureAwait(false);
        UserInfo user = await _store.SetPasswordHashAsync(request.UserName, hash, CancellationToken.None).ConfigureAwait(false);
        LogUserChanged(_logger, user.UserName, "given a new password");
        return user;
    }

    public async Task<UserInfo> GrantAsync(GrantRight request)
    {
        UserInfo user = await _store.GrantAsync(request.UserName, request.Right, CancellationToken.None).ConfigureAwait(false);
        LogUserChanged(_logger, user.UserName, $"granted {request.Right}");
        return user;
    }

    public async Task<UserInfo> RevokeAsync(RevokeRight request)
    {
        UserInfo user = await _store.RevokeAsync(request.UserName, request.Right, CancellationToken.None).ConfigureAwait(false);
        LogUserChanged(_logger, user.UserName, $"revoked {request.Right}");
        return user;
    }

    public async Task<UserInfo> EnableAsync(EnableUser request)
    {
        UserInfo user = await _store.EnableAsync(request.UserName, CancellationToken.None).ConfigureAwait(false);
        LogUserChanged(_logger, user.UserName, "enabled");
        return user;
    }

    public async Task<UserInfo> DisableAsync(DisableUser request)
    {
        (UserInfo user, IReadOnlyList<RevokedSession> revoked) = await _store.DisableAndRevokeAsync(request.UserName, _time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
        foreach (RevokedSession session in revoked)
        {
            MarkRevoked(session.SessionId, session.ExpiresAt);
        }

        SessionTelemetry.Revocations.Add(revoked.Count);
        LogUserDisabled(_logger, user.UserName, revoked.Count);
        await PublishRevocationsAsync(force: true).ConfigureAwait(false);
        return user;
    }

    public async Task<UserList> ListAsync(ListUsers request)
        => new(await _store.ListUsersAsync(CancellationToken.None).ConfigureAwait(false));
}
