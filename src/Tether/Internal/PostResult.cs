namespace Tether.Internal;

/// <summary>What became of a post to a target's mailbox.</summary>
internal enum PostResult
{
    Accepted,
    Full,
    Ended,
}
