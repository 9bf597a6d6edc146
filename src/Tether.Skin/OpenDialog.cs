namespace Tether.Skin;

/// <summary>Sent by a dialog to its client target: open another dialog of the application (as if the renderer had asked).</summary>
/// <param name="Dialog">The dialog's name in <see cref="SkinApplication.Dialogs"/>.</param>
/// <param name="Argument">Handed to the new dialog in its <see cref="DialogMount"/>.</param>
public sealed record OpenDialog(string Dialog, string? Argument = null);
