namespace Tether;

/// <summary>
/// One unit of work for the <see cref="JobEngine"/>. Each submitted job becomes a target of its own; the engine
/// caps how many run at once. A job may submit follow-up jobs through its <see cref="JobContext"/>.
/// </summary>
public abstract class Job
{
    /// <summary>A short name for progress and failure reports (default: the type's name).</summary>
    public virtual string Name => GetType().Name;

    /// <summary>
    /// Does the work. Runs as a turn of the job's own target; throwing (or a cancelled token) marks the job failed
    /// with the exception's message, and never stops the engine.
    /// </summary>
    public abstract ValueTask RunAsync(JobContext context);
}
