namespace Tether.Skin;

/// <summary>A web node's RemoteSkin figures at one moment (<see cref="SkinServer.Statistics"/>).</summary>
/// <param name="Clients">Client targets alive on this node (connected, or waiting in their resume window).</param>
/// <param name="Connections">Open browser sockets.</param>
/// <param name="OpenDialogs">Dialogs the clients of this node hold open, wherever the dialogs run.</param>
/// <param name="LocalDialogs">Dialogs alive on this node (<see cref="Dialog.LiveOn"/>).</param>
/// <param name="BadFrames">Frames refused since start: malformed, oversized, unknown or ended dialogs, refused opens.</param>
/// <param name="RateLimited">Frames refused by the per-connection rate limit since start.</param>
/// <param name="OriginsRefused">Socket upgrades refused for their origin since start.</param>
public sealed record SkinStatistics(int Clients, int Connections, int OpenDialogs, int LocalDialogs, long BadFrames, long RateLimited, long OriginsRefused);
