namespace Tether.Internal;

/// <summary>
/// The job engine's coordinator: owns every job target, starts at most MaxActive, counts outcomes, publishes progress.
/// All counting happens in its own turns, so it needs no locks; <see cref="Snapshot"/> is published for readers outside.
/// </summary>
internal sealed class JobCoordinator(JobEngineOptions options) : Target, ITarget<JobCoordinator>
{
    private readonly Queue<Address> _waiting = new();
    private readonly List<JobFailure> _failures = [];
    private readonly CancellationTokenSource _cancellation = new();
    private readonly TaskCompletionSource<JobSummary> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _total;
    private long _done;
    private long _failed;
    private int _active;
    private bool _complete;
    private bool _cancelled;
    private long _lastPublished;
    private JobProgress _snapshot = new(0, 0, 0, 0);

    public Task<JobSummary> Completion => _completion.Task;

    public JobProgress Snapshot => Volatile.Read(ref _snapshot);

    public static void Wire(Channels<JobCoordinator> channels) => channels
        .On<SubmitJob>(static (self, m, ctx) => self.OnSubmit(m.Job, ctx))
        .On<JobFinished>(static (self, m, ctx) => self.OnFinished(m, ctx))
        .On<CompleteSubmissions>(static (self, _, ctx) => self.OnComplete(ctx))
        .On<CancelJobs>(static (self, _, ctx) => self.OnCancel(ctx));

    private void OnSubmit(Job job, Context ctx)
    {
        if (_cancelled || _completion.Task.IsCompleted)
        {
            return;
        }

        Address target = ctx.Spawn(() => new JobTarget(job, ctx.Self, _cancellation.Token), JobTarget.Options);
        _total++;
        if (_active < options.MaxActive)
        {
            _active++;
            ctx.Send(target, RunJob.Instance);
        }
        else
        {
            _waiting.Enqueue(target);
        }

        Changed(ctx);
    }

    private void OnFinished(JobFinished finished, Context ctx)
    {
        _active--;
        if (finished.Error is null)
        {
            _done++;
        }
        else
        {
            _failed++;
            if (_failures.Count < options.MaxFailuresKept)
            {
                _failures.Add(new JobFailure(finished.Name, finished.Error));
            }
        }

        while (_active < options.MaxActive && _waiting.TryDequeue(out Address next))
        {
            _active++;
            ctx.Send(next, RunJob.Instance);
        }

        Changed(ctx);
    }

    private void OnComplete(Context ctx)
    {
        _complete = true;
        Changed(ctx);
    }

    private void OnCancel(Context ctx)
    {
        if (_cancelled || _completion.Task.IsCompleted)
        {
            return;
        }

        _cancelled = true;
        _cancellation.Cancel();
        while (_waiting.TryDequeue(out Address waiting))
        {
            ctx.End(waiting);
            _failed++;
        }

        Changed(ctx);
    }

    private void Changed(Context ctx)
    {
        var progress = new JobProgress(_total, _done, _failed, _active);
        Volatile.Write(ref _snapshot, progress);
        bool finished = _active == 0 && _waiting.Count == 0 && (_complete || _cancelled);
        if (options.ProgressTopic is { } topic)
        {
            long now = ctx.Node.TimeProvider.GetTimestamp();
            if (finished || ctx.Node.TimeProvider.GetElapsedTime(_lastPublished, now) >= options.ProgressInterval)
            {
                _lastPublished = now;
                ctx.Publish(topic, progress);
            }
        }

        if (finished)
        {
            _completion.TrySetResult(new JobSummary(progress, _cancelled, _failures.ToArray()));
        }
    }

    protected internal override void OnEnded(Context context, string reason)
    {
        _cancellation.Cancel();
        _completion.TrySetResult(new JobSummary(Snapshot, Cancelled: true, _failures.ToArray()));
        _cancellation.Dispose();
    }
}
