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

/// <summary>A job that failed, and why.</summary>
/// <param name="Job">The job's <see cref="Job.Name"/>.</param>
/// <param name="Error">The exception's type and message.</param>
public sealed record JobFailure(string Job, string Error);

/// <summary>How a <see cref="JobEngine"/> run ended.</summary>
/// <param name="Progress">The final counts.</param>
/// <param name="Cancelled">True when <see cref="JobEngine.Cancel"/> ended the run.</param>
/// <param name="Failures">The failures (at most <see cref="JobEngineOptions.MaxFailuresKept"/>).</param>
public sealed record JobSummary(JobProgress Progress, bool Cancelled, IReadOnlyList<JobFailure> Failures);
