namespace Tether.Nats.Internal;

/// <summary>Something a run put off that the <see cref="FlushGuard"/> looks at every tick.</summary>
internal interface IStallCheck
{
    /// <summary>Hands over what has waited since the previous tick; false when nothing is left to watch.</summary>
    bool Check();
}
