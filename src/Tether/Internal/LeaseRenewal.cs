namespace Tether.Internal;

/// <summary>The owner renewed an instance's lease.</summary>
internal sealed class LeaseRenewal
{
    public static readonly LeaseRenewal Instance = new();
}
