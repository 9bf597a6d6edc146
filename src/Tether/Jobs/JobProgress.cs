namespace Tether;

/// <summary>The state of a <see cref="JobEngine"/>: published as an event and readable as <see cref="JobEngine.Progress"/>.</summary>
/// <param name="Total">Jobs submitted so far (follow-ups included).</param>
/// <param name="Done">Jobs that finished well.</param>
/// <param name="Failed">Jobs that threw or were cancelled.</param>
/// <param name="Active">Jobs running now.</param>
public sealed record JobProgress(long Total, long Done, long Failed, int Active)
{
    /// <summary>Jobs submitted but not finished.</summary>
    public long Remaining => Total - Done - Failed;
}
