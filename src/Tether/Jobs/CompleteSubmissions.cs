namespace Tether.Internal;

internal sealed class CompleteSubmissions
{
    public static readonly CompleteSubmissions Instance = new();
}
