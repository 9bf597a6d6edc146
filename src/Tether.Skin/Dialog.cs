using Tether.Skin.Internal;

namespace Tether.Skin;

/// <summary>
/// The base of a dialog: a target that owns one piece of UI. It is created for one browser connection by an application
/// collector (<see cref="SkinNodeExtensions.RegisterDialog{T}"/>), on whichever node the factory's service name resolves to,
/// tethered to that connection's client target (its <see cref="Target.Owner"/>): when the tab closes, the dialog ends,
/// and so does everything it owns. It sends view updates to the renderer through its client and gets the user's events
/// at its own address.
/// </summary>
/// <example>
/// <code>
/// public sealed class CounterDialog : Dialog, ITarget&lt;CounterDialog&gt;
/// {
///     private int _count;
///     public static void Wire(Channels&lt;CounterDialog&gt; channels) => channels.Dialog();
///     protected override ValueTask OnMountAsync(DialogMount mount, Context ctx)
///     {
///         Render(ctx, View.Stack("root", View.Text("count", "0"), View.Button("add", "Add")));
///         return default;
///     }
///     protected override ValueTask OnEventAsync(UiEvent e, Context ctx)
///     {
///         if (e is { Kind: "click", Key: "add" }) Patch(ctx, new ViewPatch().SetText("count", $"{++_count}"));
///         return default;
///     }
/// }
/// </code>
/// </example>
public abstract class Dialog : Target
{
    /// <summary>The number of dialogs alive on <paramref name="node"/> (of every application and client).</summary>
    public static int LiveOn(Node node) => DialogCounts.Get(node);

    /// <summary>
    /// Renders the first view (and the whole view again when a renderer resumes). Runs on <see cref="DialogMount"/>, which
    /// carries the client's session. The default does nothing.
    /// </summary>
    protected virtual ValueTask OnMountAsync(DialogMount mount, Context ctx) => default;

    /// <summary>Handles one user event. The default does nothing.</summary>
    protected virtual ValueTask OnEventAsync(UiEvent e, Context ctx) => default;

    /// <summary>Runs when the dialog starts, before its mount. Override instead of <see cref="Target.OnStarted"/>.</summary>
    protected virtual void OnOpened(Context ctx)
    {
    }

    /// <summary>Runs when the dialog ends (closed, its client gone, or ended itself). Override instead of <see cref="Target.OnEnded"/>.</summary>
    protected virtual void OnClosed(Context ctx, string reason)
    {
    }

    /// <summary>Replaces the dialog's whole view in the browser.</summary>
    protected void Render(Context ctx, ViewNode view)
    {
        ArgumentNullException.ThrowIfNull(view);
        Send(ctx, new ViewPatch().Render(view));
    }

    /// <summary>Sends keyed changes to the dialog's view.</summary>
    protected void Patch(Context ctx, ViewPatch patch)
    {
        ArgumentNullException.ThrowIfNull(patch);
        if (patch.Count > 0)
        {
            Send(ctx, patch);
        }
    }

    /// <summary>Shows a toast in the browser.</summary>
    protected void Toast(Context ctx, string text, ToastLevel level = ToastLevel.Info) => Send(ctx, new ViewPatch().Toast(text, level));

    /// <summary>
    /// Shows a request's failure where the user looks: a contract violation at its field (the field keyed by the
    /// violation's path, or its last segment; the message names the rule and value), anything else as an error toast.
    /// Returns true when it showed a field. A violation raised on another node arrives as a plain
    /// <see cref="TetherException"/> (code and text only) and becomes a toast.
    /// </summary>
    protected bool ShowError(Context ctx, Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (error is ContractViolationException { Path.Length: > 0 } violation)
        {
            string path = violation.Path;
            int dot = path.LastIndexOf('.');
            string key = dot >= 0 ? path[(dot + 1)..] : path;
            // The rule and value only: the full text names where the rule was declared, which is for developers.
            Patch(ctx, new ViewPatch().SetField(key, null, $"Breaks the rule {violation.Rule} (value: {violation.Value})."));
            return true;
        }

        Toast(ctx, error is TetherException t ? $"{t.Message} ({t.Code})" : error.Message, ToastLevel.Error);
        return false;
    }

    /// <summary>Tells the client target that its connection now acts with <paramref name="token"/> (null: signed out).</summary>
    protected void SignIn(Context ctx, string? token) => ctx.Send(ctx.Owner, new SessionEstablished(token));

    /// <summary>Asks the client target to open another dialog of the application.</summary>
    protected void Open(Context ctx, string dialog, string? argument = null) => ctx.Send(ctx.Owner, new OpenDialog(dialog, argument));

    /// <summary>Closes this dialog: it ends, and the renderer removes its view.</summary>
    protected static void Close(Context ctx) => ctx.EndSelf();

    internal ValueTask MountFromClient(DialogMount mount, Context ctx) => OnMountAsync(mount, ctx);

    internal ValueTask EventFromClient(UiEvent e, Context ctx) => OnEventAsync(e, ctx);

    /// <inheritdoc />
    protected sealed override void OnStarted(Context context)
    {
        DialogCounts.Add(context.Node, 1);
        OnOpened(context);
    }

    /// <inheritdoc />
    protected sealed override void OnEnded(Context context, string reason)
    {
        DialogCounts.Add(context.Node, -1);
        OnClosed(context, reason);
    }

    private static void Send(Context ctx, ViewPatch patch)
    {
        if (!ctx.Owner.IsNone)
        {
            ctx.Send(ctx.Owner, new ViewUpdate(patch.ToJson()));
        }
    }
}
