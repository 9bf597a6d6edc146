namespace Tether.Internal;

/// <summary>An instance on another node is tethered to this (owner) target.</summary>
internal sealed record RemoteChildAdded(Address Child);
