namespace Tether.Internal;

/// <summary>A job's own target: waits (alive) until the coordinator lets it run, runs once, reports, ends.</summary>
internal sealed class JobTarget(Job job, Address coordinator, CancellationToken cancellation) : Target, ITarget<JobTarget>
{
    public static readonly SpawnOptions Options = new() { MailboxCapacity = 4 };

    public static void Wire(Channels<JobTarget> channels)
        => channels.OnAsync<RunJob>(static (self, _, ctx) => self.RunAsync(ctx));

    private async ValueTask RunAsync(Context ctx)
    {
        string? error = null;
        try
        {
            cancellation.ThrowIfCancellationRequested();
            await job.RunAsync(new JobContext(ctx, coordinator, cancellation));
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            error = "cancelled";
        }
#pragma warning disable CA1031 // a job's failure is its result, reported to the coordinator
        catch (Exception ex)
#pragma warning restore CA1031
        {
            error = $"{ex.GetType().Name}: {ex.Message}";
        }

        ctx.Send(coordinator, new JobFinished(ctx.Self, job.Name, error));
        ctx.EndSelf();
    }
}
