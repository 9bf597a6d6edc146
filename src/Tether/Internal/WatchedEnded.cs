namespace Tether.Internal;

/// <summary>A target this one watches has ended (to the watcher).</summary>
internal sealed record WatchedEnded(Address Target, string Reason);
