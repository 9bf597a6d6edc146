namespace Tether.Skin;

/// <summary>
/// Sent by the client target to a dialog it has just created (and again when a renderer resumes): render your whole view
/// now. It carries the client's session token, as every user event does (<see cref="Context.SessionToken"/>).
/// </summary>
/// <param name="Argument">What the opener passed (a renderer's <c>arg</c>, or <see cref="Dialog.Open"/>'s argument); null for none.</param>
/// <param name="Resumed">True when a renderer reconnected within the resume window and needs the view again.</param>
public sealed record DialogMount(string? Argument, bool Resumed);
