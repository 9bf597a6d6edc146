namespace Tether.Skin;

/// <summary>
/// Sent by a dialog (typically the login dialog) to its client target: from now on this connection acts with
/// <paramref name="Token"/>; every user event and dialog creation carries it. Null signs the connection out.
/// </summary>
/// <param name="Token">The session token the session manager issued, or null.</param>
public sealed record SessionEstablished(string? Token);
