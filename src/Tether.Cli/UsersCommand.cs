using System.CommandLine;
using System.Text;
using Tether.Sessions;

namespace Tether.Cli;

/// <summary>
/// <c>tether users add|passwd|grant|revoke|disable|enable|list</c>: administers the session manager's user store directly
/// (SQLite with <c>--db</c>, default ./tether-users.db, or PostgreSQL with <c>--postgres</c>). Passwords are read from
/// standard input (a first line; on a terminal, a prompt without echo), never from a flag. Exit codes: 0 done, 1 refused
/// (unknown user, duplicate user, unreachable store), 2 bad input (empty name, right or password).
/// </summary>
internal static class UsersCommand
{
    public const int Refused = 1;
    public const int BadInput = 2;

    /// <summary>The command, reading passwords from <paramref name="input"/> and writing to <paramref name="output"/> and <paramref name="error"/>.</summary>
    public static Command Build(TextReader input, TextWriter output, TextWriter error)
    {
        var db = new Option<string?>("--db") { Description = "The SQLite user store file (created with its schema when missing). Default: ./tether-users.db." };
        var postgres = new Option<string?>("--postgres") { Description = "A PostgreSQL connection string: administer that database instead of SQLite." };
        var workFactor = new Option<int>("--work-factor") { Description = "The BCrypt work factor of the new password hash (4 to 20).", DefaultValueFactory = _ => 12 };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from the first line of standard input (also the default when input is not a terminal)." };
        var rights = new Option<string[]>("--right") { Description = "A right to grant the new user (repeatable).", AllowMultipleArgumentsPerToken = false };

        Argument<string> Name() => new("NAME") { Description = "The user's login name, verbatim (quote it in the shell)." };
        Argument<string> Right() => new("RIGHT") { Description = "A right, one word, for example orders.place." };

        Command WithStore(Command command)
        {
            command.Options.Add(db);
            command.Options.Add(postgres);
            return command;
        }

        var addName = Name();
        Command add = WithStore(new Command("add", "Create a user; the password is read from standard input.") { addName, passwordStdin, workFactor, rights });
        add.SetAction((parse, cancellation) => RunAsync(parse.GetValue(db), parse.GetValue(postgres), output, error, async store =>
        {
            string password = ReadPassword(input, error, parse.GetValue(addName)!, confirm: true);
            UserInfo user = await store.CreateUserAsync(parse.GetValue(addName)!, password, parse.GetValue(rights) ?? [], parse.GetValue(workFactor), cancellation);
            return $"added {Describe(user)}";
        }));

        var passwdName = Name();
        Command passwd = WithStore(new Command("passwd", "Set a user's password; it is read from standard input.") { passwdName, passwordStdin, workFactor });
        passwd.SetAction((parse, cancellation) => RunAsync(parse.GetValue(db), parse.GetValue(postgres), output, error, async store =>
        {
            string name = parse.GetValue(passwdName)!;
            if (await store.FindUserAsync(name, cancellation) is null)
            {
                throw new TetherException(SessionErrorCodes.NoSuchUser, $"No user is named \"{name}\".");
            }

            string password = ReadPassword(input, error, name, confirm: true);
            UserInfo user = await store.SetPasswordAsync(name, password, parse.GetValue(workFactor), cancellation);
            return $"password set for {user.UserName}";
        }));

        var grantName = Name();
        var grantRight = Right();
        Command grant = WithStore(new Command("grant", "Grant a right to a user (new sessions carry it).") { grantName, grantRight });
        grant.SetAction((parse, cancellation) => RunAsync(parse.GetValue(db), parse.GetValue(postgres), output, error, async store =>
            $"granted: {Describe(await store.GrantAsync(parse.GetValue(grantName)!, parse.GetValue(grantRight)!, cancellation))}"));

        var revokeName = Name();
        var revokeRight = Right();
        Command revoke = WithStore(new Command("revoke", "Take a right from a user (live sessions keep it until renewed or ended).") { revokeName, revokeRight });
        revoke.SetAction((parse, cancellation) => RunAsync(parse.GetValue(db), parse.GetValue(postgres), output, error, async store =>
            $"revoked: {Describe(await store.RevokeAsync(parse.GetValue(revokeName)!, parse.GetValue(revokeRight)!, cancellation))}"));

        var disableName = Name();
        Command disable = WithStore(new Command("disable", "Disable a user: no more logins; its sessions are revoked (running session managers publish it to every node within their poll interval).") { disableName });
        disable.SetAction((parse, cancellation) => RunAsync(parse.GetValue(db), parse.GetValue(postgres), output, error, async store =>
            $"disabled {Describe(await store.DisableAsync(parse.GetValue(disableName)!, cancellation))}"));

        var enableName = Name();
        Command enable = WithStore(new Command("enable", "Enable a disabled user again.") { enableName });
        enable.SetAction((parse, cancellation) => RunAsync(parse.GetValue(db), parse.GetValue(postgres), output, error, async store =>
            $"enabled {Describe(await store.EnableAsync(parse.GetValue(enableName)!, cancellation))}"));

        Command list = WithStore(new Command("list", "List the users: name, state and rights, one per line, tab-separated."));
        list.SetAction((parse, cancellation) => RunAsync(parse.GetValue(db), parse.GetValue(postgres), output, error, async store =>
        {
            var text = new StringBuilder();
            foreach (UserInfo user in await store.ListUsersAsync(cancellation))
            {
                text.Append(user.UserName).Append('\t').Append(user.Disabled ? "disabled" : "enabled").Append('\t').AppendJoin(',', user.Rights).Append('\n');
            }

            return text.ToString().TrimEnd('\n');
        }));

        return new Command("users", "Administer the session manager's users (Tether.Sessions) in its store.")
        {
            add, passwd, grant, revoke, disable, enable, list,
        };
    }

    private static async Task<int> RunAsync(string? db, string? postgres, TextWriter output, TextWriter error, Func<UserStore, Task<string>> action)
    {
        if (db is not null && postgres is not null)
        {
            await error.WriteLineAsync("tether users: give --db or --postgres, not both.");
            return BadInput;
        }

        try
        {
            await using UserStore store = postgres is not null
                ? await UserStore.OpenPostgresAsync(postgres)
                : await UserStore.OpenSqliteAsync(db ?? "tether-users.db");
            string result = await action(store);
            if (result.Length > 0)
            {
                await output.WriteLineAsync(result);
            }

            return 0;
        }
        catch (TetherException ex)
        {
            await error.WriteLineAsync($"tether users: {ex.Message}");
            return ex.Code == ErrorCodes.BadRequest ? BadInput : Refused;
        }
        catch (InvalidOperationException ex)
        {
            await error.WriteLineAsync($"tether users: {ex.Message}");
            return Refused;
        }
    }

    /// <summary>The first line of <paramref name="input"/>; on a terminal, typed without echo and confirmed.</summary>
    private static string ReadPassword(TextReader input, TextWriter error, string userName, bool confirm)
    {
        if (ReferenceEquals(input, Console.In) && !Console.IsInputRedirected)
        {
            string first = ReadHidden(error, $"Password for {userName}: ");
            if (confirm && ReadHidden(error, "Again: ") != first)
            {
                throw new TetherException(ErrorCodes.BadRequest, "The two passwords differ.");
            }

            return first;
        }

        return input.ReadLine() ?? throw new TetherException(ErrorCodes.BadRequest, "The password is missing: standard input is empty (pipe it in: printf '%s\\n' \"$PW\" | tether users add NAME --password-stdin).");
    }

    private static string ReadHidden(TextWriter error, string prompt)
    {
        error.Write(prompt);
        var text = new StringBuilder();
        while (true)
        {
            ConsoleKeyInfo key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                error.WriteLine();
                return text.ToString();
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (text.Length > 0)
                {
                    text.Length--;
                }
            }
            else if (!char.IsControl(key.KeyChar))
            {
                text.Append(key.KeyChar);
            }
        }
    }

    private static string Describe(UserInfo user)
        => $"{user.UserName}{(user.Disabled ? " (disabled)" : "")}, rights: {(user.Rights.Count == 0 ? "none" : string.Join(", ", user.Rights))}";
}
