namespace Tether.Skin;

/// <summary>
/// An application a browser can use: its dialogs by name, each created by an application collector (a factory registered
/// with <see cref="SkinNodeExtensions.RegisterDialog{T}"/> on any node), and whether it needs a signed-in user.
/// </summary>
/// <param name="Name">The application's name, as the page names it (<c>/skin/app/NAME</c>).</param>
/// <param name="StartDialog">The dialog the page opens first (for a protected application: its login dialog).</param>
public sealed record SkinApplication(string Name, string StartDialog)
{
    /// <summary>
    /// The application's dialogs: the name a renderer or dialog opens it by → the factory service that creates it.
    /// A dialog not listed here cannot be opened.
    /// </summary>
    public IReadOnlyDictionary<string, string> Dialogs { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// When set, an anonymous client (no session yet) may open only this dialog; every other open is refused with
    /// <c>unauthenticated</c> until a dialog gives the client a session (<see cref="Dialog.SignIn"/>).
    /// </summary>
    public string? LoginDialog { get; init; }

    /// <summary>True when the application requires a session: it has a <see cref="LoginDialog"/>.</summary>
    public bool IsProtected => LoginDialog is not null;

    /// <summary>The page's title. Defaults to the name.</summary>
    public string? Title { get; init; }

    /// <summary>Returns a copy that offers one more dialog, created by the factory registered under <paramref name="service"/>.</summary>
    public SkinApplication WithDialog(string dialog, string service)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dialog);
        ArgumentException.ThrowIfNullOrWhiteSpace(service);
        var dialogs = new Dictionary<string, string>(Dialogs, StringComparer.Ordinal) { [dialog] = service };
        return this with { Dialogs = dialogs };
    }
}
