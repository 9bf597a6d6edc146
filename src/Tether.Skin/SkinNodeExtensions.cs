namespace Tether.Skin;

/// <summary>Registers dialogs on a node.</summary>
public static class SkinNodeExtensions
{
    /// <summary>
    /// Registers an application collector: a factory under <paramref name="service"/> that creates a
    /// <typeparamref name="TDialog"/> for each client target that opens it, tethered to that client. Register it on the
    /// node where the dialog should run; name the service in <see cref="SkinApplication.Dialogs"/> on the web node.
    /// </summary>
    public static void RegisterDialog<TDialog>(this Node node, string service, Func<TDialog> create, SpawnOptions? options = null)
        where TDialog : Dialog, ITarget<TDialog>
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(create);
        node.RegisterFactory(service, _ => create(), options);
    }
}
