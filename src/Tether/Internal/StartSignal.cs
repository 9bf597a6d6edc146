namespace Tether.Internal;

/// <summary>Runs the target's OnStarted hook as its first turn.</summary>
internal sealed class StartSignal
{
    public static readonly StartSignal Instance = new();
}
