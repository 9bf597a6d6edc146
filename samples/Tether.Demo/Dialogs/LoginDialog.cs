using Tether.Sessions;
using Tether.Skin;

namespace Tether.Demo.Dialogs;

/// <summary>
/// The demo's login dialog (the only one an anonymous browser may open): asks the session manager
/// (<see cref="Login"/>), shows a refusal at the password field, and on success signs the connection in and opens the
/// catalogue.
/// </summary>
public sealed class LoginDialog : Dialog, ITarget<LoginDialog>
{
    /// <summary>Wires the dialog's channels.</summary>
    public static void Wire(Channels<LoginDialog> channels) => channels.Dialog();

    /// <inheritdoc />
    protected override ValueTask OnMountAsync(DialogMount mount, Context ctx)
    {
        Render(ctx, View.Stack("root",
            View.Heading("title", "Tether demo shop: sign in"),
            View.Form("login",
                View.Field("user", "User"),
                View.Field("password", "Password", input: "password"),
                View.Button("signin", "Sign in"))));
        return default;
    }

    /// <inheritdoc />
    protected override async ValueTask OnEventAsync(UiEvent e, Context ctx)
    {
        if (e is not { Kind: "submit", Key: "login" })
        {
            return;
        }

        string user = e.Field("user").Trim();
        string password = e.Field("password");
        if (user.Length == 0 || password.Length == 0)
        {
            Patch(ctx, new ViewPatch().SetField(user.Length == 0 ? "user" : "password", null, "Required."));
            return;
        }

        try
        {
            // Awaiting here keeps only this dialog waiting (BCrypt runs on the manager's hashing threads).
            LoginResult result = await ctx.Request(DemoApp.SessionsService, new Login(user, password), TimeSpan.FromSeconds(30));
            SignIn(ctx, result.Token);
            Open(ctx, DemoApp.CatalogueDialog);
            Close(ctx);
        }
        catch (TetherException ex) when (ex.Code == ErrorCodes.Unauthenticated)
        {
            Patch(ctx, new ViewPatch().SetField("user", null, null).SetField("password", "", "unauthenticated: wrong user or password."));
        }
        catch (TetherException ex)
        {
            ShowError(ctx, ex);
        }
    }
}
