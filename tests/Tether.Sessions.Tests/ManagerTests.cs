using System.Diagnostics;
using MessagePack;
using MessagePack.Resolvers;
using Tether.Nats;

namespace Tether.Sessions.Tests;

/// <summary>The session manager's own promises: throttling, hashing off the mailbox, equal cost for unknown users, its contracts.</summary>
public sealed class ManagerTests : IDisposable
{
    private readonly SqliteKind _store = new();

    public void Dispose() => _store.Dispose();

    [Fact]
    public void DelayAfter_FollowsTheStatedPolicy()
    {
        var options = new SessionManagerOptions { Keys = SessionKeys.Generate() };

        Assert.Equal(TimeSpan.Zero, options.DelayAfter(0));
        Assert.Equal(TimeSpan.Zero, options.DelayAfter(4));
        Assert.Equal(TimeSpan.FromMilliseconds(100), options.DelayAfter(5));
        Assert.Equal(TimeSpan.FromMilliseconds(200), options.DelayAfter(6));
        Assert.Equal(TimeSpan.FromMilliseconds(400), options.DelayAfter(7));
        Assert.Equal(TimeSpan.FromMilliseconds(25_600), options.DelayAfter(13));
        Assert.Equal(TimeSpan.FromSeconds(30), options.DelayAfter(14));
        Assert.Equal(TimeSpan.FromSeconds(30), options.DelayAfter(int.MaxValue));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task RepeatedFailures_SlowThatUsersNextLogin_WithoutBlockingAnotherUsersLogin(int round)
    {
        _ = round;
        // Policy as configured here: from the 3rd failure in a row, each next attempt waits 1.5 s (doubling, capped).
        await using Sessions sessions = await Sessions.StartAsync(_store, o => o with { FailuresBeforeDelay = 3, FailureDelay = TimeSpan.FromMilliseconds(1500) });
        await sessions.AdminAsync(new CreateUser("victim", "right-pw", null));
        await sessions.AdminAsync(new CreateUser("bystander", "pw", null));
        for (int i = 0; i < 3; i++)
        {
            await Assert.ThrowsAsync<TetherException>(async () => await sessions.LoginAsync("victim", "guess-" + i));
        }

        long start = Stopwatch.GetTimestamp();
        Task<LoginResult> slowed = sessions.LoginAsync("victim", "right-pw").AsTask();
        LoginResult other = await sessions.LoginAsync("bystander", "pw");
        bool slowedWasPending = !slowed.IsCompleted;
        LoginResult victim = await slowed;
        TimeSpan victimTook = Stopwatch.GetElapsedTime(start);
        var credentials = await sessions.Manager.Users.GetCredentialsAsync("victim", CancellationToken.None);

        Assert.Equal("bystander", other.Identity.UserName);
        Assert.True(slowedWasPending, "the other user's login had to wait for the slowed one");
        Assert.Equal("victim", victim.Identity.UserName);
        Assert.True(victimTook >= TimeSpan.FromMilliseconds(1400), $"the slowed login took only {victimTook.TotalMilliseconds} ms");
        Assert.Equal(0, credentials!.Value.FailedLogins); // a success resets the count
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task FiftyConcurrentLogins_DoNotDelayVerification(int round)
    {
        _ = round;
        // One hashing thread and a real work factor: the 50 logins take seconds in all. Verification must not queue
        // behind them (hashing never runs on the manager's mailbox or the thread pool).
        await using Sessions sessions = await Sessions.StartAsync(_store, o => o with { WorkFactor = 10, HashingThreads = 1 });
        await sessions.Manager.Users.CreateUserAsync("storm", "pw", ["x"], workFactor: 10);
        string token = (await sessions.LoginAsync("storm", "pw")).Token;

        Task<LoginResult>[] logins = Enumerable.Range(0, 50).Select(_ => sessions.LoginAsync("storm", "pw").AsTask()).ToArray();
        for (int i = 0; i < 20; i++)
        {
            SessionIdentity identity = await sessions.Node.Request("sessions", new VerifySession(token, "x"), TimeSpan.FromSeconds(60));
            Assert.Equal("storm", identity.UserName);
        }

        int pending = logins.Count(t => !t.IsCompleted);
        await Task.WhenAll(logins);

        Assert.True(pending >= 25, $"only {pending} of 50 logins were still hashing when 20 verifications had been answered");
    }

    [Fact]
    public async Task UnknownUser_CostsAPasswordCheck_LikeAWrongPassword()
    {
        // Not timed (timings on a shared machine say little): the manager must run exactly one BCrypt check for an
        // unknown user, as for a wrong password, against a dummy hash of the configured work factor.
        await using Sessions sessions = await Sessions.StartAsync(_store, o => o with { WorkFactor = 6 });
        await sessions.Manager.Users.CreateUserAsync("known", "pw", workFactor: 6);
        Internal.HashWorker hasher = sessions.Manager.Service.Hasher;

        long before = hasher.Checks;
        TetherException unknown = await Assert.ThrowsAsync<TetherException>(async () => await sessions.LoginAsync("nobody", "x"));
        long afterUnknown = hasher.Checks;
        TetherException wrong = await Assert.ThrowsAsync<TetherException>(async () => await sessions.LoginAsync("known", "x"));
        long afterWrong = hasher.Checks;

        Assert.Equal(1, afterUnknown - before);
        Assert.Equal(1, afterWrong - afterUnknown);
        Assert.StartsWith("$2a$06$", hasher.DummyHash, StringComparison.Ordinal);
        Assert.Equal(unknown.Message, wrong.Message);
    }

    [Fact]
    public async Task TwoManagers_OnOneStore_ServeTheSameUsersAndSessions()
    {
        await using Sessions sessions = await Sessions.StartAsync(_store);
        await using SessionManager second = await SessionManager.StartAsync(sessions.Node, sessions.Manager.Options);
        await sessions.AdminAsync(new CreateUser("ada", "pw", ["orders.place"]));

        // The service goes round robin over both instances: each one answers some of these.
        LoginResult[] logins = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => sessions.LoginAsync("ada", "pw").AsTask()));
        foreach (LoginResult login in logins)
        {
            await sessions.Node.Request(second.Address, new VerifySession(login.Token, "orders.place"));
            await sessions.Node.Request(sessions.Manager.Address, new VerifySession(login.Token, "orders.place"));
        }

        Assert.True(await sessions.Node.Request(second.Address, new Logout(logins[0].Token)));
        TetherException revoked = await Assert.ThrowsAsync<TetherException>(async () => await sessions.Node.Request(sessions.Manager.Address, new VerifySession(logins[0].Token, null)));
        Assert.Equal(ErrorCodes.SessionRevoked, revoked.Code);
        Assert.Equal(6, logins.Select(l => l.Identity.SessionId).Distinct().Count());
    }

    [Fact]
    public async Task Confirm_AnswersTrueForALiveSession_FromMemoryOrTheStore_AndRefusesTamperedUnknownAndRevokedOnes_WithTypedCodes()
    {
        await using Sessions sessions = await Sessions.StartAsync(_store);
        await using SessionManager second = await SessionManager.StartAsync(sessions.Node, sessions.Manager.Options);
        await sessions.AdminAsync(new CreateUser("ada", "pw", ["orders.place"]));
        LoginResult login = await sessions.Node.Request(sessions.Manager.Address, new Login("ada", "pw"), TimeSpan.FromSeconds(60));

        // The issuing manager knows the token; the second one reads the store (and checks the signature) first.
        bool fromMemory = await sessions.Node.Request(sessions.Manager.Address, new ConfirmSession(login.Token));
        bool fromStore = await sessions.Node.Request(second.Address, new ConfirmSession(login.Token));
        char[] flipped = login.Token.ToCharArray();
        int at = login.Token.IndexOf('.', StringComparison.Ordinal) - 5;
        flipped[at] = flipped[at] == 'A' ? 'B' : 'A';
        TetherException tampered = await Assert.ThrowsAsync<TetherException>(async () => await sessions.Node.Request(second.Address, new ConfirmSession(new string(flipped))));
        TetherException garbage = await Assert.ThrowsAsync<TetherException>(async () => await sessions.Node.Request(sessions.Manager.Address, new ConfirmSession("not-a-token")));
        Assert.True(await sessions.Node.Request(second.Address, new Logout(login.Token)));
        TetherException revoked = await Assert.ThrowsAsync<TetherException>(async () => await sessions.Node.Request(second.Address, new ConfirmSession(login.Token)));

        Assert.True(fromMemory);
        Assert.True(fromStore);
        Assert.Equal(ErrorCodes.Unauthenticated, tampered.Code);
        Assert.Equal(ErrorCodes.Unauthenticated, garbage.Code);
        Assert.Equal(ErrorCodes.SessionRevoked, revoked.Code);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Verify_ASessionTheManagerIssued_IsAnsweredFromMemory_AndARevocationMadeInTheStoreEndsIt_AtTheNextPoll(int round)
    {
        _ = round;
        await using Sessions sessions = await Sessions.StartAsync(_store); // polls the store every 200 ms
        await sessions.Manager.Users.CreateUserAsync("ada", "pw", ["orders.place"], workFactor: 4);
        LoginResult login = await sessions.LoginAsync("ada", "pw");

        SessionIdentity verified = await sessions.Node.Request(sessions.Manager.Address, new VerifySession(login.Token, "orders.place"));
        TetherException forbidden = await Assert.ThrowsAsync<TetherException>(async () => await sessions.Node.Request(sessions.Manager.Address, new VerifySession(login.Token, "admin.everything")));

        // As `tether users disable` does: straight to the database, not through the manager. The manager learns it at
        // its next poll (RevocationPollInterval, 200 ms here); the deadline is 1 s, the revocation bound README states.
        await sessions.Manager.Users.DisableAsync("ada");
        await Eventually.Until(async () =>
        {
            try
            {
                await sessions.Node.Request(sessions.Manager.Address, new VerifySession(login.Token, null));
                return false;
            }
            catch (TetherException ex) when (ex.Code == ErrorCodes.SessionRevoked)
            {
                return true;
            }
        }, "the manager refuses a session revoked in the store", TimeSpan.FromSeconds(1));

        Assert.Equal(login.Identity.SessionId, verified.SessionId);
        Assert.Equal(ErrorCodes.Forbidden, forbidden.Code);
    }

    [Fact]
    public async Task Login_PasswordLongerThanBCryptReads_IsRefused_EvenWithTheRightPrefix()
    {
        await using Sessions sessions = await Sessions.StartAsync(_store);
        string seventyTwo = new('p', 72);
        await sessions.Manager.Users.CreateUserAsync("long", seventyTwo, workFactor: 4);

        TetherException refused = await Assert.ThrowsAsync<TetherException>(async () => await sessions.LoginAsync("long", seventyTwo + "suffix"));
        TetherException tooLongToSet = await Assert.ThrowsAsync<TetherException>(() => sessions.Manager.Users.SetPasswordAsync("long", seventyTwo + "x", workFactor: 4));

        Assert.Equal(ErrorCodes.Unauthenticated, refused.Code);
        Assert.Equal(ErrorCodes.BadRequest, tooLongToSet.Code);
        Assert.Equal("long", (await sessions.LoginAsync("long", seventyTwo)).Identity.UserName);
    }

    [Fact]
    public void Messages_WithSecrets_NeverPrintThem()
    {
        string[] printed =
        [
            new Login("ada", "pw-4711").ToString(),
            new CreateUser("ada", "pw-4711", ["x"]).ToString(),
            new SetPassword("ada", "pw-4711").ToString(),
            new LoginResult("tok-4711", new SessionIdentity("s", "u", "ada", [], DateTimeOffset.UnixEpoch)).ToString(),
            new VerifySession("tok-4711", "x").ToString(),
            new ConfirmSession("tok-4711").ToString(),
            new RenewSession("tok-4711").ToString(),
            new Logout("tok-4711").ToString(),
        ];

        Assert.All(printed, p => Assert.DoesNotContain("4711", p, StringComparison.Ordinal));
        Assert.Contains("ada", printed[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Contracts_RegisterOnce_AndEveryMessageRoundTripsThroughTheWiresSerializer()
    {
        ContractRegistry registry = SessionContracts.Register(new ContractRegistry());
        MessagePackSerializerOptions wire = MessagePackSerializerOptions.Standard.WithResolver(
            CompositeResolver.Create(StandardResolver.Instance, ContractlessStandardResolver.Instance));
        var identity = new SessionIdentity("s1", "u1", "Zoë", ["a", "b"], DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000));
        object[] messages =
        [
            new Login("ada", "pw"), new LoginResult("t", identity), new VerifySession("t", null), new ConfirmSession("t"), identity, new RenewSession("t"), new Logout("t"),
            new CreateUser("ada", "pw", ["x"]), new SetPassword("ada", "pw"), new GrantRight("ada", "x"), new RevokeRight("ada", "x"),
            new DisableUser("ada"), new EnableUser("ada"), new ListUsers(),
            new UserInfo("u", "ada", ["x"], false, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000)),
            new UserList([new UserInfo("u", "ada", ["x"], true, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000))]),
            new SessionsRevoked([new RevokedSession("s1", DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000))]),
        ];

        Assert.Equal(SessionContracts.Names.Count, messages.Select(m => m.GetType()).Distinct().Count());
        Assert.Equal(SessionContracts.Names.Count, SessionContracts.Names.Values.Distinct().Count());
        Assert.NotNull(registry);
        foreach (object message in messages)
        {
            byte[] bytes = MessagePackSerializer.Serialize(message.GetType(), message, wire);
            object back = MessagePackSerializer.Deserialize(message.GetType(), bytes, wire)!;
            Assert.Equal(Print(message), Print(back));
        }
    }

    private static string Print(object message) => message switch
    {
        LoginResult r => r.Token + Print(r.Identity),
        SessionIdentity i => $"{i.SessionId}|{i.UserId}|{i.UserName}|{string.Join(",", i.Rights)}|{i.ExpiresAt:O}",
        UserInfo u => $"{u.UserId}|{u.UserName}|{string.Join(",", u.Rights)}|{u.Disabled}|{u.CreatedAt:O}",
        UserList l => string.Join(";", l.Users.Select(Print)),
        SessionsRevoked s => string.Join(";", s.Sessions),
        CreateUser c => $"{c.UserName}|{c.Password}|{string.Join(",", c.Rights ?? [])}",
        Login l => l.UserName + "|" + l.Password,
        SetPassword p => p.UserName + "|" + p.Password,
        VerifySession v => v.Token + "|" + v.Right,
        ConfirmSession c => "confirm|" + c.Token,
        RenewSession r => r.Token,
        Logout o => o.Token,
        _ => message.ToString()!,
    };
}
