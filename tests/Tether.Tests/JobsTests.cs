using System.Collections.Concurrent;
using Tether.Tests.TestSupport;

namespace Tether.Tests;

public sealed class JobsTests
{
    private sealed class TreeJob(int depth, int fanOut, ConcurrentBag<string> ran, string name) : Job
    {
        public override string Name => name;

        public override ValueTask RunAsync(JobContext context)
        {
            ran.Add(name);
            if (depth > 0)
            {
                for (int i = 0; i < fanOut; i++)
                {
                    context.Submit(new TreeJob(depth - 1, fanOut, ran, $"{name}.{i}"));
                }
            }

            return ValueTask.CompletedTask;
        }
    }

    private sealed class DelegateJob(Func<JobContext, ValueTask> run, string name = "job") : Job
    {
        public override string Name => name;

        public override ValueTask RunAsync(JobContext context) => run(context);
    }

    private sealed class ProgressWatcher(ConcurrentQueue<JobProgress> seen) : Target, ITarget<ProgressWatcher>
    {
        public static void Wire(Channels<ProgressWatcher> channels)
            => channels.On<JobProgress>(static (self, m, _) => self.Seen(m));

        protected internal override void OnStarted(Context context) => context.Subscribe("progress");

        private void Seen(JobProgress progress) => seen.Enqueue(progress);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(64)]
    public async Task JobEngine_JobsWithFollowUps_RunsEveryJobOnceAndCompletes(int maxActive)
    {
        await using Node node = Node.Create();
        var ran = new ConcurrentBag<string>();
        JobEngine engine = JobEngine.Start(node, new JobEngineOptions { MaxActive = maxActive });
        engine.Submit(new TreeJob(depth: 3, fanOut: 10, ran, "root"));
        engine.Complete();

        JobSummary summary = await engine.Completion.Within("the job tree to finish");

        Assert.Equal(1 + 10 + 100 + 1000, summary.Progress.Total);
        Assert.Equal(summary.Progress.Total, summary.Progress.Done);
        Assert.Equal(0, summary.Progress.Failed);
        Assert.False(summary.Cancelled);
        Assert.Equal(1111, ran.Count);
        Assert.Equal(1111, ran.Distinct().Count());
        await Eventually.Until(() => node.Statistics.Targets == 1, "job targets to end (only the coordinator stays)");
    }

    [Fact]
    public async Task JobEngine_MaxActive_IsNeverExceededAndIsReached()
    {
        await using Node node = Node.Create();
        const int cap = 3;
        int running = 0;
        int maxSeen = 0;
        var reachedCap = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        JobEngine engine = JobEngine.Start(node, new JobEngineOptions { MaxActive = cap });
        for (int i = 0; i < 60; i++)
        {
            engine.Submit(new DelegateJob(async _ =>
            {
                int now = Interlocked.Increment(ref running);
                InterlockedMax(ref maxSeen, now);
                if (now == cap)
                {
                    reachedCap.TrySetResult();
                }

                // Hold the slot until the cap was seen once, so the test proves the engine fills every slot.
                await reachedCap.Task.WaitAsync(Waits.Default);
                Interlocked.Decrement(ref running);
            }));
        }

        engine.Complete();
        JobSummary summary = await engine.Completion.Within("60 capped jobs");
        Assert.Equal(60, summary.Progress.Done);
        Assert.Equal(cap, maxSeen);
    }

    [Fact]
    public async Task JobEngine_FailingJob_IsCountedWithItsErrorAndOthersGoOn()
    {
        await using Node node = Node.Create();
        JobEngine engine = JobEngine.Start(node, new JobEngineOptions { MaxActive = 2 });
        for (int i = 0; i < 10; i++)
        {
            int n = i;
            engine.Submit(new DelegateJob(_ => n % 3 == 0 ? throw new InvalidDataException($"bad input {n}") : ValueTask.CompletedTask, $"job{n}"));
        }

        engine.Complete();
        JobSummary summary = await engine.Completion.Within("jobs with failures");
        Assert.Equal(10, summary.Progress.Total);
        Assert.Equal(6, summary.Progress.Done);
        Assert.Equal(4, summary.Progress.Failed);
        Assert.Contains(summary.Failures, f => f.Job == "job3" && f.Error == "InvalidDataException: bad input 3");
    }

    [Fact]
    public async Task JobEngine_ProgressTopic_PublishesFinalCountsAsAnEvent()
    {
        await using Node node = Node.Create();
        var seen = new ConcurrentQueue<JobProgress>();
        node.Spawn(() => new ProgressWatcher(seen));
        JobEngine engine = JobEngine.Start(node, new JobEngineOptions { MaxActive = 4, ProgressTopic = "progress", ProgressInterval = TimeSpan.Zero });
        engine.Submit(new TreeJob(depth: 2, fanOut: 5, [], "root"));
        engine.Complete();
        await engine.Completion.Within("jobs to finish");

        await Eventually.Until(() => seen.Any(p => p.Total == 31 && p.Done == 31 && p.Remaining == 0), "the final progress event");
        long[] done = seen.Select(p => p.Done).ToArray();
        Assert.True(done.Zip(done.Skip(1)).All(pair => pair.First <= pair.Second), "progress events arrive in order: done never goes down");
    }

    [Fact]
    public async Task JobEngine_Cancel_EndsWaitingJobsWithoutRunningThemAndCancelsRunningOnes()
    {
        await using Node node = Node.Create();
        int started = 0;
        int sawCancel = 0;
        var bothRunning = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        JobEngine engine = JobEngine.Start(node, new JobEngineOptions { MaxActive = 2 });
        for (int i = 0; i < 50; i++)
        {
            engine.Submit(new DelegateJob(async context =>
            {
                if (Interlocked.Increment(ref started) == 2)
                {
                    bothRunning.TrySetResult();
                }

                try
                {
                    await Task.Delay(Timeout.Infinite, context.Cancellation);
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Increment(ref sawCancel);
                    throw;
                }
            }));
        }

        engine.Complete();
        await bothRunning.Task.Within("two jobs to be running");
        engine.Cancel();
        JobSummary summary = await engine.Completion.Within("the cancelled run to complete");

        Assert.True(summary.Cancelled);
        Assert.Equal(2, Volatile.Read(ref started));
        Assert.Equal(2, Volatile.Read(ref sawCancel));
        Assert.Equal(50, summary.Progress.Failed);
        Assert.Equal(0, summary.Progress.Done);
    }

    [Fact]
    public async Task JobEngine_TwentyThousandJobs_AreAllAliveAsTargetsWhileWaiting()
    {
        await using Node node = Node.Create();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        JobEngine engine = JobEngine.Start(node, new JobEngineOptions { MaxActive = 2 });
        for (int i = 0; i < 20_000; i++)
        {
            engine.Submit(new DelegateJob(async _ => await gate.Task));
        }

        engine.Complete();
        await Eventually.Until(() => engine.Progress.Total == 20_000, "all jobs to be submitted");
        Assert.True(node.Statistics.Targets >= 20_000, $"expected every job alive as a target, saw {node.Statistics.Targets}");
        Assert.Equal(2, engine.Progress.Active);
        gate.SetResult();
        JobSummary summary = await engine.Completion.Within("20,000 jobs", TimeSpan.FromMinutes(1));
        Assert.Equal(20_000, summary.Progress.Done);
    }

    [Fact]
    public async Task JobEngine_BadOptions_AreRejectedWithTheOptionNamed()
    {
        await using Node node = Node.Create();
        ArgumentException error = Assert.Throws<ArgumentException>(() => JobEngine.Start(node, new JobEngineOptions { MaxActive = 0 }));
        Assert.Contains("MaxActive", error.Message, StringComparison.Ordinal);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
