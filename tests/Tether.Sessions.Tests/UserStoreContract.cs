namespace Tether.Sessions.Tests;

/// <summary>One suite for every user store: SQLite (<see cref="SqliteUserStoreTests"/>) and a real PostgreSQL (<see cref="PostgresUserStoreTests"/>).</summary>
public abstract class UserStoreContract : IDisposable
{
    private readonly StoreKind _kind;

    protected UserStoreContract(StoreKind kind) => _kind = kind;

    public static TheoryData<string> AwkwardNames => new()
    {
        "O'Brien",
        "\"quoted\" name",
        "semi;colon; DROP TABLE users;--",
        "Robert'); DROP TABLE user_rights;--",
        "Zoë Ångström-Łukasiewicz",
        "李小龍",
        "Ωμέγα ΑΒΓ",
        "back\\slash %_ wildcard",
    };

    [Theory]
    [MemberData(nameof(AwkwardNames))]
    public async Task CreateUser_AwkwardName_IsStoredAndFoundVerbatim(string name)
    {
        await using UserStore store = await _kind.OpenAsync();
        UserInfo created = await store.CreateUserAsync(name, "secret-1", ["orders.place"], workFactor: 4);

        UserInfo? found = await store.FindUserAsync(name);
        Assert.NotNull(found);
        Assert.Equal(name, found.UserName);
        Assert.Equal(created.UserId, found.UserId);
        Assert.Equal(["orders.place"], found.Rights);
        Assert.Null(await store.FindUserAsync(name.ToUpperInvariant() == name ? name + "x" : name.ToUpperInvariant()));
        Assert.Equal(name, Assert.Single(await store.ListUsersAsync()).UserName); // the tables survived the name: exactly this user
    }

    [Theory]
    [MemberData(nameof(AwkwardNames))]
    public async Task Login_AwkwardName_GetsATokenThatNamesTheUserVerbatim(string name)
    {
        await using Sessions sessions = await Sessions.StartAsync(_kind);
        await sessions.AdminAsync(new CreateUser(name, "pass;'\"word", ["reports.read"]));

        LoginResult login = await sessions.LoginAsync(name, "pass;'\"word");

        Assert.Equal(name, login.Identity.UserName);
        SessionIdentity verified = await sessions.Node.Request("sessions", new VerifySession(login.Token, "reports.read"));
        Assert.Equal(name, verified.UserName);
    }

    [Fact]
    public async Task CreateUser_Twice_FailsWithUserExists_ButOtherCaseIsAnotherUser()
    {
        await using UserStore store = await _kind.OpenAsync();
        await store.CreateUserAsync("ada", "pw", workFactor: 4);

        TetherException duplicate = await Assert.ThrowsAsync<TetherException>(() => store.CreateUserAsync("ada", "other", workFactor: 4));
        UserInfo upper = await store.CreateUserAsync("Ada", "pw", workFactor: 4);

        Assert.Equal(SessionErrorCodes.UserExists, duplicate.Code);
        Assert.Contains("\"ada\"", duplicate.Message, StringComparison.Ordinal);
        Assert.Equal("Ada", upper.UserName);
        Assert.Equal(["Ada", "ada"], (await store.ListUsersAsync()).Select(u => u.UserName));
    }

    [Fact]
    public async Task GrantAndRevoke_ChangeRights_AndBadInputIsRefusedByName()
    {
        await using UserStore store = await _kind.OpenAsync();
        await store.CreateUserAsync("bob", "pw", workFactor: 4);

        await store.GrantAsync("bob", "orders.view");
        await store.GrantAsync("bob", "orders.view"); // again: no change
        UserInfo granted = await store.GrantAsync("bob", "orders.place");
        UserInfo revoked = await store.RevokeAsync("bob", "orders.view");

        Assert.Equal(["orders.place", "orders.view"], granted.Rights);
        Assert.Equal(["orders.place"], revoked.Rights);
        Assert.Equal(SessionErrorCodes.NoSuchUser, (await Assert.ThrowsAsync<TetherException>(() => store.GrantAsync("nobody", "x"))).Code);
        Assert.Equal(ErrorCodes.BadRequest, (await Assert.ThrowsAsync<TetherException>(() => store.GrantAsync("bob", " "))).Code);
        Assert.Equal(ErrorCodes.BadRequest, (await Assert.ThrowsAsync<TetherException>(() => store.GrantAsync("bob", "two words"))).Code);
        TetherException notHeld = await Assert.ThrowsAsync<TetherException>(() => store.RevokeAsync("bob", "orders.view"));
        Assert.Equal(ErrorCodes.BadRequest, notHeld.Code);
        Assert.Contains("does not hold", notHeld.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorCodes.BadRequest, (await Assert.ThrowsAsync<TetherException>(() => store.CreateUserAsync("", "pw", workFactor: 4))).Code);
        Assert.Equal(ErrorCodes.BadRequest, (await Assert.ThrowsAsync<TetherException>(() => store.CreateUserAsync("carl", "", workFactor: 4))).Code);
    }

    [Fact]
    public async Task Reopen_KeepsUsersAndSchemaVersion()
    {
        await using (UserStore first = await _kind.OpenAsync())
        {
            Assert.Equal(UserStore.LatestSchemaVersion, first.SchemaVersion);
            await first.CreateUserAsync("kept", "pw", ["a.b"], workFactor: 4);
        }

        await using UserStore second = await _kind.OpenAsync();

        Assert.Equal(UserStore.LatestSchemaVersion, second.SchemaVersion);
        Assert.Equal(["a.b"], (await second.FindUserAsync("kept"))!.Rights);
    }

    [Fact]
    public async Task Open_VersionOneDatabase_MigratesForward_AndItsUsersLogIn()
    {
        await using (UserStore v1 = await _kind.OpenAsync(schemaVersion: 1))
        {
            Assert.Equal(1, v1.SchemaVersion);
        }

        // A user as version 1 stored it (no failed_logins column, no sessions table yet).
        string hash = BCrypt.Net.BCrypt.HashPassword("old-pass", 4);
        await _kind.ExecuteAsync($"INSERT INTO users (user_id, user_name, password_hash, disabled, created_at) VALUES ('u1', 'veteran', '{hash}', 0, 1700000000000)");
        await _kind.ExecuteAsync("INSERT INTO user_rights (user_id, right_name) VALUES ('u1', 'orders.place')");

        await using Sessions sessions = await Sessions.StartAsync(_kind);
        LoginResult login = await sessions.LoginAsync("veteran", "old-pass");

        Assert.Equal(2, sessions.Manager.Users.SchemaVersion);
        Assert.Equal("u1", login.Identity.UserId);
        Assert.Equal(["orders.place"], login.Identity.Rights);
        Assert.True(await sessions.Node.Request("sessions", new Logout(login.Token)));
    }

    [Fact]
    public async Task Open_NewerSchemaThanKnown_FailsWithAClearMessage()
    {
        await using (await _kind.OpenAsync())
        {
        }

        await _kind.ExecuteAsync("UPDATE schema_version SET version = 99");

        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(() => _kind.OpenAsync());
        Assert.Contains("schema version 99", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoginVerifyRenewLogout_AsMessages()
    {
        await using Sessions sessions = await Sessions.StartAsync(_kind);
        await sessions.AdminAsync(new CreateUser("ada", "lovelace", ["orders.place", "orders.view"]));

        LoginResult login = await sessions.LoginAsync("ada", "lovelace");
        SessionIdentity verified = await sessions.Node.Request("sessions", new VerifySession(login.Token, "orders.place"));
        TetherException forbidden = await Assert.ThrowsAsync<TetherException>(async () => await sessions.Node.Request("sessions", new VerifySession(login.Token, "admin.everything")));
        LoginResult renewed = await sessions.Node.Request("sessions", new RenewSession(login.Token));
        bool loggedOut = await sessions.Node.Request("sessions", new Logout(renewed.Token));
        TetherException revoked = await Assert.ThrowsAsync<TetherException>(async () => await sessions.Node.Request("sessions", new VerifySession(login.Token, null)));
        TetherException revokedRenewal = await Assert.ThrowsAsync<TetherException>(async () => await sessions.Node.Request("sessions", new RenewSession(renewed.Token)));

        Assert.Equal("ada", login.Identity.UserName);
        Assert.Equal(["orders.place", "orders.view"], login.Identity.Rights);
        Assert.Equal(login.Identity.SessionId, verified.SessionId);
        Assert.Equal(ErrorCodes.Forbidden, forbidden.Code);
        Assert.NotEqual(login.Token, renewed.Token);
        Assert.Equal(login.Identity.SessionId, renewed.Identity.SessionId);
        Assert.True(renewed.Identity.ExpiresAt >= login.Identity.ExpiresAt);
        Assert.True(loggedOut);
        Assert.False(await sessions.Node.Request("sessions", new Logout(renewed.Token))); // already revoked
        Assert.Equal(ErrorCodes.SessionRevoked, revoked.Code);
        Assert.Equal(ErrorCodes.SessionRevoked, revokedRenewal.Code);
    }

    [Fact]
    public async Task Login_WrongPasswordUnknownUserDisabledUser_AllGetTheSameUnauthenticatedAnswer()
    {
        await using Sessions sessions = await Sessions.StartAsync(_kind);
        await sessions.AdminAsync(new CreateUser("eve", "right-one", null));
        await sessions.AdminAsync(new CreateUser("mallory", "pw", null));
        await sessions.AdminAsync(new DisableUser("mallory"));

        TetherException wrong = await Assert.ThrowsAsync<TetherException>(async () => await sessions.LoginAsync("eve", "wrong-one"));
        TetherException unknown = await Assert.ThrowsAsync<TetherException>(async () => await sessions.LoginAsync("nobody", "whatever"));
        TetherException disabled = await Assert.ThrowsAsync<TetherException>(async () => await sessions.LoginAsync("mallory", "pw"));

        Assert.All([wrong, unknown, disabled], e => Assert.Equal(ErrorCodes.Unauthenticated, e.Code));
        Assert.Equal(wrong.Message, unknown.Message);
        Assert.Equal(wrong.Message, disabled.Message);
    }

    [Fact]
    public async Task Administration_AsMessages_CreatesChangesDisablesAndLists()
    {
        await using Sessions sessions = await Sessions.StartAsync(_kind);

        UserInfo created = await sessions.AdminAsync(new CreateUser("grace", "hopper", ["cobol.write"]));
        LoginResult first = await sessions.LoginAsync("grace", "hopper");
        await sessions.AdminAsync(new SetPassword("grace", "new-pass"));
        await Assert.ThrowsAsync<TetherException>(async () => await sessions.LoginAsync("grace", "hopper"));
        UserInfo granted = await sessions.AdminAsync(new GrantRight("grace", "navy.command"));
        UserInfo revokedRight = await sessions.AdminAsync(new RevokeRight("grace", "cobol.write"));
        LoginResult second = await sessions.LoginAsync("grace", "new-pass");
        UserInfo disabled = await sessions.AdminAsync(new DisableUser("grace"));
        TetherException afterDisable = await Assert.ThrowsAsync<TetherException>(async () => await sessions.Node.Request("sessions", new VerifySession(second.Token, null)));
        UserList list = await sessions.AdminAsync(new ListUsers());
        TetherException duplicate = await Assert.ThrowsAsync<TetherException>(async () => await sessions.AdminAsync(new CreateUser("grace", "x", null)));
        TetherException unknown = await Assert.ThrowsAsync<TetherException>(async () => await sessions.AdminAsync(new GrantRight("nobody", "x")));
        UserInfo enabled = await sessions.AdminAsync(new EnableUser("grace"));

        Assert.Equal(["cobol.write"], created.Rights);
        Assert.Equal(["cobol.write"], first.Identity.Rights);
        Assert.Equal(["cobol.write", "navy.command"], granted.Rights);
        Assert.Equal(["navy.command"], revokedRight.Rights);
        Assert.Equal(["navy.command"], second.Identity.Rights);
        Assert.True(disabled.Disabled);
        Assert.Equal(ErrorCodes.SessionRevoked, afterDisable.Code);
        Assert.Equal(["admin", "grace"], list.Users.Select(u => u.UserName));
        Assert.Equal(SessionErrorCodes.UserExists, duplicate.Code);
        Assert.Equal(SessionErrorCodes.NoSuchUser, unknown.Code);
        Assert.False(enabled.Disabled);
        Assert.Equal("grace", (await sessions.LoginAsync("grace", "new-pass")).Identity.UserName);
    }

    public void Dispose()
    {
        _kind.Dispose();
        GC.SuppressFinalize(this);
    }
}

public sealed class SqliteUserStoreTests() : UserStoreContract(new SqliteKind())
{
    [Fact]
    public async Task Open_MissingFile_CreatesItWithTheSchema()
    {
        using var dir = new TempDir();
        string path = dir.File("fresh.db");

        await using (UserStore store = await UserStore.OpenSqliteAsync(path))
        {
            Assert.Equal(UserStore.LatestSchemaVersion, store.SchemaVersion);
        }

        Assert.True(File.Exists(path));
    }

    [Fact]
    public async Task Open_MissingDirectory_FailsNamingThePath()
    {
        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(() => UserStore.OpenSqliteAsync("/nonexistent-dir-4711/users.db"));
        Assert.Contains("/nonexistent-dir-4711", error.Message, StringComparison.Ordinal);
    }
}

[Collection("postgres")]
public sealed class PostgresUserStoreTests(PostgresFixture postgres) : UserStoreContract(new PostgresKind(postgres.Server))
{
    [Fact]
    public async Task Open_UnreachableServer_FailsNamingHostAndDatabase_NotThePassword()
    {
        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => UserStore.OpenPostgresAsync("Host=127.0.0.1;Port=1;Username=u;Password=sekrit-pw;Database=users;Timeout=3"));
        Assert.Contains("127.0.0.1:1/users", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sekrit-pw", error.ToString(), StringComparison.Ordinal);
    }
}
