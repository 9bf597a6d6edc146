namespace Tether;

/// <summary>A job that failed, and why.</summary>
/// <param name="Job">The job's <see cref="Job.Name"/>.</param>
/// <param name="Error">The exception's type and message.</param>
public sealed record JobFailure(string Job, string Error);
