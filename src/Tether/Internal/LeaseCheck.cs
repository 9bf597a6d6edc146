namespace Tether.Internal;

/// <summary>The lease timer fired; the mailbox checks whether the lease still holds.</summary>
internal sealed class LeaseCheck
{
    public static readonly LeaseCheck Instance = new();
}
