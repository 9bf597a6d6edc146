namespace Tether.Internal;

internal sealed class RunJob
{
    public static readonly RunJob Instance = new();
}
