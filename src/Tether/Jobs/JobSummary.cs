namespace Tether;

/// <summary>How a <see cref="JobEngine"/> run ended.</summary>
/// <param name="Progress">The final counts.</param>
/// <param name="Cancelled">True when <see cref="JobEngine.Cancel"/> ended the run.</param>
/// <param name="Failures">The failures (at most <see cref="JobEngineOptions.MaxFailuresKept"/>).</param>
public sealed record JobSummary(JobProgress Progress, bool Cancelled, IReadOnlyList<JobFailure> Failures);
