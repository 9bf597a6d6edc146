namespace Tether.Internal;

internal sealed class CancelJobs
{
    public static readonly CancelJobs Instance = new();
}
