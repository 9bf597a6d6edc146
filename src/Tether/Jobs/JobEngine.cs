using Tether.Internal;

namespace Tether;

/// <summary>
/// Runs batches of <see cref="Job"/>s as targets with bounded concurrency: every submitted job is a live target
/// at once (tens of thousands are fine), at most <see cref="JobEngineOptions.MaxActive"/> run at a time, jobs may
/// submit follow-ups, progress is published as events, and the run can be cancelled.
/// </summary>
/// <example>
/// <code>
/// var engine = JobEngine.Start(node, new JobEngineOptions { MaxActive = 8 });
/// engine.Submit(new ScanDirectory(root));
/// engine.Complete();                       // no more jobs from outside; follow-ups still come
/// JobSummary summary = await engine.Completion;
/// </code>
/// </example>
public sealed class JobEngine
{
    private readonly Node _node;
    private readonly JobCoordinator _coordinator;

    private JobEngine(Node node, JobCoordinator coordinator, Address address)
    {
        _node = node;
        _coordinator = coordinator;
        Address = address;
    }

    /// <summary>The address of the engine's coordinator target (the owner of every job target).</summary>
    public Address Address { get; }

    /// <summary>Completes when <see cref="Complete"/> was called and every job, follow-ups included, has finished; or after <see cref="Cancel"/>.</summary>
    public Task<JobSummary> Completion => _coordinator.Completion;

    /// <summary>The latest counts.</summary>
    public JobProgress Progress => _coordinator.Snapshot;

    /// <summary>Starts an engine on a node.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public static JobEngine Start(Node node, JobEngineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(node);
        options ??= JobEngineOptions.Default;
        if (options.MaxActive < 1)
        {
            throw new ArgumentException($"JobEngineOptions.MaxActive must be at least 1; it is {options.MaxActive}.", nameof(options));
        }

        if (options.ProgressInterval < TimeSpan.Zero)
        {
            throw new ArgumentException($"JobEngineOptions.ProgressInterval must not be negative; it is {options.ProgressInterval}.", nameof(options));
        }

        var coordinator = new JobCoordinator(options);
        Address address = node.Spawn(() => coordinator, new SpawnOptions { MailboxCapacity = int.MaxValue });
        return new JobEngine(node, coordinator, address);
    }

    /// <summary>Submits a job from outside any target.</summary>
    public void Submit(Job job)
    {
        ArgumentNullException.ThrowIfNull(job);
        _node.Send(Address, new SubmitJob(job));
    }

    /// <summary>Says no more jobs will come from outside; the engine completes once the running ones and their follow-ups are done.</summary>
    public void Complete() => _node.Send(Address, CompleteSubmissions.Instance);

    /// <summary>Cancels the run: jobs not yet started end without running, running jobs see their token cancelled.</summary>
    public void Cancel() => _node.Send(Address, CancelJobs.Instance);
}
