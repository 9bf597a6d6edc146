namespace Tether.Sessions.Internal;

/// <summary>The session manager's target: it only dispatches; <see cref="SessionService"/> does the work off the mailbox.</summary>
internal sealed class SessionManagerTarget(SessionService service) : Target, ITarget<SessionManagerTarget>
{
    private readonly SessionService _service = service;

    public static void Wire(Channels<SessionManagerTarget> channels) => channels
        .Deferred<Login, LoginResult>(static (self, m, reply, _) => self._service.Start(reply, m, static (s, r) => s.LoginAsync(r), "log in"))
        .Deferred<VerifySession, SessionIdentity>(static (self, m, reply, _) => self._service.Verify(reply, m))
        .Deferred<ConfirmSession, bool>(static (self, m, reply, _) => self._service.Confirm(reply, m))
        .Deferred<RenewSession, LoginResult>(static (self, m, reply, _) => self._service.Start(reply, m, static (s, r) => s.RenewAsync(r), "renew a session"))
        .Deferred<Logout, bool>(static (self, m, reply, _) => self._service.Start(reply, m, static (s, r) => s.LogoutAsync(r), "log out"))
        .Deferred<CreateUser, UserInfo>(static (self, m, reply, _) => self._service.Start(reply, m, static (s, r) => s.CreateUserAsync(r), "create a user"))
        .Requires(SessionManager.AdminRight)
        .Deferred<SetPassword, UserInfo>(static (self, m, reply, _) => self._service.Start(reply, m, static (s, r) => s.SetPasswordAsync(r), "set a password"))
        .Requires(SessionManager.AdminRight)
        .Deferred<GrantRight, UserInfo>(static (self, m, reply, _) => self._service.Start(reply, m, static (s, r) => s.GrantAsync(r), "grant a right"))
        .Requires(SessionManager.AdminRight)
        .Deferred<RevokeRight, UserInfo>(static (self, m, reply, _) => self._service.Start(reply, m, static (s, r) => s.RevokeAsync(r), "revoke a right"))
        .Requires(SessionManager.AdminRight)
        .Deferred<DisableUser, UserInfo>(static (self, m, reply, _) => self._service.Start(reply, m, static (s, r) => s.DisableAsync(r), "disable a user"))
        .Requires(SessionManager.AdminRight)
        .Deferred<EnableUser, UserInfo>(static (self, m, reply, _) => self._service.Start(reply, m, static (s, r) => s.EnableAsync(r), "enable a user"))
        .Requires(SessionManager.AdminRight)
        .Deferred<ListUsers, UserList>(static (self, m, reply, _) => self._service.Start(reply, m, static (s, r) => s.ListAsync(r), "list users"))
        .Requires(SessionManager.AdminRight)
        .On<PollRevocations>(static (self, _, _) => self._service.StartPoll())
        .On<SessionsRevoked>(static (self, m, _) => self._service.Apply(m));

    protected override void OnStarted(Context context)
    {
        context.Subscribe(_service.Options.RevocationTopic); // other managers' revocations end this one's memory of those sessions

        TimeSpan interval = _service.Options.RevocationPollInterval;
        if (interval != Timeout.InfiniteTimeSpan)
        {
            context.ScheduleEvery(interval, PollRevocations.Instance);
        }
    }

    /// <summary>The timer's message: look for revocations made elsewhere.</summary>
    internal sealed class PollRevocations
    {
        public static readonly PollRevocations Instance = new();
    }
}
