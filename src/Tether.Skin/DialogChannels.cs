namespace Tether.Skin;

/// <summary>Wires a dialog's input channels.</summary>
public static class DialogChannels
{
    /// <summary>
    /// Wires <see cref="DialogMount"/> to <see cref="Dialog.OnMountAsync"/> and <see cref="UiEvent"/> to
    /// <see cref="Dialog.OnEventAsync"/>. Chain the dialog's other channels after it; chain <c>.Requires(right)</c> after it
    /// to protect the dialog's events.
    /// </summary>
    public static Channels<TDialog> Dialog<TDialog>(this Channels<TDialog> channels)
        where TDialog : Dialog
    {
        ArgumentNullException.ThrowIfNull(channels);
        return channels
            .OnAsync<DialogMount>(static (self, m, ctx) => self.MountFromClient(m, ctx))
            .OnAsync<UiEvent>(static (self, e, ctx) => self.EventFromClient(e, ctx));
    }
}
