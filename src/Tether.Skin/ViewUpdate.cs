namespace Tether.Skin;

/// <summary>
/// What a dialog sends its client target: patch operations for the renderer, as the JSON array the view model defines
/// (see the Tether.Skin README). Dialogs build it with <see cref="ViewPatch"/> and <see cref="Dialog.Render"/>; the client
/// target forwards it unchanged, tagged with the dialog's id, so a dialog on another node costs the web node no serializing.
/// </summary>
/// <param name="Ops">A JSON array of patch operations.</param>
public sealed record ViewUpdate(string Ops);
