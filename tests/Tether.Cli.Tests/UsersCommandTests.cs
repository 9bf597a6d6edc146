using System.CommandLine;
using Microsoft.Data.Sqlite;
using Tether.Sessions;

namespace Tether.Cli.Tests;

/// <summary><c>tether users</c> against a real SQLite store: parsing, passwords from standard input, exit codes and messages.</summary>
public sealed class UsersCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tether-users-cli-").FullName;

    private string Db => Path.Join(_dir, "users.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<(int Code, string Output, string Error)> Run(string stdin, params string[] args)
    {
        using var input = new StringReader(stdin);
        using var output = new StringWriter();
        using var error = new StringWriter();
        Command users = UsersCommand.Build(input, output, error);
        var root = new RootCommand { users };
        int code = await root.Parse(["users", .. args]).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString().TrimEnd('\n'), error.ToString().TrimEnd('\n'));
    }

    [Fact]
    public async Task AddGrantRevokeDisableList_RoundTripThroughTheStore()
    {
        (int added, string addOut, _) = await Run("s3cret-pw\n", "add", "O'Brien; Zoë", "--password-stdin", "--db", Db, "--work-factor", "4", "--right", "orders.view");
        (int granted, _, _) = await Run("", "grant", "O'Brien; Zoë", "orders.place", "--db", Db);
        (int revoked, _, _) = await Run("", "revoke", "O'Brien; Zoë", "orders.view", "--db", Db);
        (int addedBob, _, _) = await Run("pw2\n", "add", "bob", "--db", Db, "--work-factor", "4");
        (int disabled, _, _) = await Run("", "disable", "bob", "--db", Db);
        (int listed, string list, _) = await Run("", "list", "--db", Db);

        Assert.Equal([0, 0, 0, 0, 0, 0], [added, granted, revoked, addedBob, disabled, listed]);
        Assert.Equal("added O'Brien; Zoë, rights: orders.view", addOut);
        Assert.Equal("O'Brien; Zoë\tenabled\torders.place\nbob\tdisabled\t", list);
        await using UserStore store = await UserStore.OpenSqliteAsync(Db);
        Assert.True(BCrypt.Net.BCrypt.Verify("s3cret-pw", await HashOf("O'Brien; Zoë")));
        Assert.DoesNotContain("s3cret-pw", addOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Passwd_SetsANewPasswordFromStandardInput()
    {
        await Run("old-pw\n", "add", "ada", "--db", Db, "--work-factor", "4");

        (int code, string output, _) = await Run("new-pw\n", "passwd", "ada", "--db", Db, "--work-factor", "4");

        Assert.Equal(0, code);
        Assert.Equal("password set for ada", output);
        Assert.True(BCrypt.Net.BCrypt.Verify("new-pw", await HashOf("ada")));
    }

    [Fact]
    public async Task BadInput_FailsWithAClearMessageAndExitCode()
    {
        await Run("pw\n", "add", "ada", "--db", Db, "--work-factor", "4");

        (int duplicate, _, string duplicateError) = await Run("pw\n", "add", "ada", "--db", Db, "--work-factor", "4");
        (int unknown, _, string unknownError) = await Run("", "grant", "nobody", "x.y", "--db", Db);
        (int unknownPasswd, _, string unknownPasswdError) = await Run("pw\n", "passwd", "nobody", "--db", Db);
        (int emptyRight, _, string emptyRightError) = await Run("", "grant", "ada", " ", "--db", Db);
        (int emptyPassword, _, string emptyPasswordError) = await Run("\n", "add", "carl", "--db", Db, "--work-factor", "4");
        (int noInput, _, string noInputError) = await Run("", "add", "dora", "--db", Db, "--work-factor", "4");
        (int both, _, string bothError) = await Run("", "list", "--db", Db, "--postgres", "Host=x");
        (int badStore, _, string badStoreError) = await Run("", "list", "--db", "/nonexistent-4711/users.db");
        (int notHeld, _, string notHeldError) = await Run("", "revoke", "ada", "never.granted", "--db", Db);

        Assert.Equal(UsersCommand.Refused, duplicate);
        Assert.Equal("tether users: A user named \"ada\" exists already.", duplicateError);
        Assert.Equal(UsersCommand.Refused, unknown);
        Assert.Equal("tether users: No user is named \"nobody\".", unknownError);
        Assert.Equal(UsersCommand.Refused, unknownPasswd);
        Assert.Contains("nobody", unknownPasswdError, StringComparison.Ordinal);
        Assert.Equal(UsersCommand.BadInput, emptyRight);
        Assert.Equal("tether users: The right is empty.", emptyRightError);
        Assert.Equal(UsersCommand.BadInput, emptyPassword);
        Assert.Equal("tether users: The password is empty.", emptyPasswordError);
        Assert.Equal(UsersCommand.BadInput, noInput);
        Assert.Contains("standard input is empty", noInputError, StringComparison.Ordinal);
        Assert.Equal(UsersCommand.BadInput, both);
        Assert.Contains("not both", bothError, StringComparison.Ordinal);
        Assert.Equal(UsersCommand.Refused, badStore);
        Assert.Contains("/nonexistent-4711", badStoreError, StringComparison.Ordinal);
        Assert.Equal(UsersCommand.BadInput, notHeld);
        Assert.Contains("does not hold", notHeldError, StringComparison.Ordinal);
        Assert.Null(await new UserStoreProbe(Db).FindAsync("carl"));
    }

    [Fact]
    public async Task NoPasswordFlag_APasswordIsNeverTakenFromTheCommandLine()
    {
        (int code, _, string error) = await Run("", "add", "ada", "--password", "pw", "--db", Db);

        Assert.NotEqual(0, code);
        Assert.Contains("--password", error, StringComparison.Ordinal);
    }

    private async Task<string> HashOf(string name)
    {
        await using var connection = new SqliteConnection($"Data Source={Db}");
        await connection.OpenAsync();
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT password_hash FROM users WHERE user_name = @n";
        command.Parameters.AddWithValue("@n", name);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private sealed class UserStoreProbe(string db)
    {
        public async Task<UserInfo?> FindAsync(string name)
        {
            await using UserStore store = await UserStore.OpenSqliteAsync(db);
            return await store.FindUserAsync(name);
        }
    }
}
