using Proto;

namespace Tether.Benchmarks.Frameworks;

/// <summary>
/// Proto.Actor 1.8.0 in its defaults: <c>new ActorSystem()</c>, <c>Props.FromProducer</c> (default thread-pool dispatcher,
/// throughput 300, unbounded mailbox), <c>IActor.ReceiveAsync</c> with a switch, <c>Send</c>/<c>Request</c>/<c>Respond</c>.
/// The ping-pong and spawn shapes are those of Proto.Actor's own InprocessBenchmark and SpawnBenchmark.
/// </summary>
internal sealed class ProtoActorBench : IBenchSystem
{
    private static readonly Props s_idleProps = Props.FromProducer(static () => new IdleActor());
    private readonly ActorSystem _system = new();

    private IRootContext Root => _system.Root;

    public Task<Func<Task>> PreparePingPongAsync(int pairs, int roundTrips, int inFlight)
    {
        var done = new Task[pairs];
        var starts = new (PID Pinger, PID Ponger)[pairs];
        // The default (unbounded) mailbox: Proto.Actor's InprocessBenchmark uses BoundedMailbox(2048), which measured
        // 2x slower here, so the default is both the recommended and the faster configuration.
        Props pongProps = Props.FromProducer(static () => new PongActor());
        for (int i = 0; i < pairs; i++)
        {
            var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            done[i] = finished.Task;
            starts[i] = (Root.Spawn(Props.FromProducer(() => new PingActor(roundTrips, inFlight, finished))), Root.Spawn(pongProps));
        }

        return Task.FromResult<Func<Task>>(() =>
        {
            foreach ((PID pinger, PID ponger) in starts)
            {
                Root.Send(pinger, new Start(ponger));
            }

            return Task.WhenAll(done);
        });
    }

    public Task<Func<Task>> PrepareUserStylePingPongAsync(int roundTrips, int inFlight)
    {
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        PID pinger = Root.Spawn(Props.FromProducer(() => new UserPingActor(roundTrips, inFlight, finished)));
        PID ponger = Root.Spawn(Props.FromProducer(static () => new UserPongActor()));
        return Task.FromResult<Func<Task>>(() =>
        {
            Root.Send(pinger, new Start(ponger));
            return finished.Task;
        });
    }

    public Task<Func<Task<int>>> PrepareRecordRequestAsync()
    {
        PID pricer = Root.Spawn(Props.FromProducer(static () => new PriceActor()));
        return Task.FromResult<Func<Task<int>>>(async () => (await Root.RequestAsync<Price>(pricer, new Quote("apple"))).Amount);
    }

    public Task<Func<Task<int>>> PrepareRequestAsync()
    {
        PID answerer = Root.Spawn(Props.FromProducer(static () => new AnswerActor()));
        return Task.FromResult<Func<Task<int>>>(() => Root.RequestAsync<int>(answerer, Ask.Instance));
    }

    public async Task<long> SpawnTreeAsync(int size, int div, TimeSpan timeout)
    {
        PID root = Root.Spawn(SkynetActor.Props);
        return await Root.RequestAsync<long>(root, new Skynet(0, size, div), timeout);
    }

    public async Task<(long Before, long After)> SpawnIdleAsync(int count, Func<long> measure)
    {
        var keep = new PID[count];
        IdleActor.Reset();
        long before = measure();
        for (int i = 0; i < count; i++)
        {
            keep[i] = Root.Spawn(s_idleProps);
        }

        await IdleActor.WaitStartedAsync(count);
        long after = measure();
        GC.KeepAlive(keep);
        return (before, after);
    }

    public Task<Func<Task<long>>> PrepareFanoutAsync(int workers)
    {
        var pids = new PID[workers];
        Props workerProps = Props.FromProducer(static () => new WorkerActor());
        for (int i = 0; i < workers; i++)
        {
            pids[i] = Root.Spawn(workerProps);
        }

        PID coordinator = Root.Spawn(Props.FromProducer(static () => new FanoutCoordinator()));
        var request = new Fanout(pids);
        return Task.FromResult<Func<Task<long>>>(() => Root.RequestAsync<long>(coordinator, request, TimeSpan.FromSeconds(30)));
    }

    public async Task RunJobsAsync(int jobs, int maxActive)
    {
        var finished = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        PID coordinator = Root.Spawn(Props.FromProducer(() => new JobCoordinator(maxActive, finished)));
        for (int i = 0; i < jobs; i++)
        {
            Root.Send(coordinator, new SubmitJob(i));
        }

        Root.Send(coordinator, CompleteJobs.Instance);
        long done = await finished.Task;
        if (done != jobs)
        {
            throw new InvalidOperationException($"The coordinator finished {done} of {jobs} jobs.");
        }
    }

    public async ValueTask DisposeAsync() => await _system.DisposeAsync();

    // ---- ping-pong (InprocessBenchmark's PingActor/EchoActor) ----
    private sealed record Start(PID Ponger);

    private sealed record Msg(PID Sender);

    private sealed class PingActor(int roundTrips, int inFlight, TaskCompletionSource done) : IActor
    {
        private Volleys _volleys = new(roundTrips, inFlight, done);

        public Task ReceiveAsync(IContext context)
        {
            switch (context.Message)
            {
                case Start s:
                    SendBatch(context, s.Ponger);
                    break;
                case Msg m:
                    if (_volleys.Returned())
                    {
                        SendBatch(context, m.Sender);
                    }

                    break;
            }

            return Task.CompletedTask;
        }

        private void SendBatch(IContext context, PID ponger)
        {
            int n = _volleys.NextBatch();
            if (n == 0)
            {
                return;
            }

            var m = new Msg(context.Self);
            for (int i = 0; i < n; i++)
            {
                context.Send(ponger, m);
            }
        }
    }

    private sealed class PongActor : IActor
    {
        public Task ReceiveAsync(IContext context)
        {
            if (context.Message is Msg msg)
            {
                context.Send(msg.Sender, msg);
            }

            return Task.CompletedTask;
        }
    }

    // ---- ping-pong as a user writes it from the docs: Request (the sender travels in an envelope) and Respond ----
    private sealed record Ping;

    private sealed record Pong;

    private sealed class UserPingActor(int roundTrips, int inFlight, TaskCompletionSource done) : IActor
    {
        private Volleys _volleys = new(roundTrips, inFlight, done);
        private PID? _ponger;

        public Task ReceiveAsync(IContext context)
        {
            switch (context.Message)
            {
                case Start s:
                    _ponger = s.Ponger;
                    SendBatch(context);
                    break;
                case Pong:
                    if (_volleys.Returned())
                    {
                        SendBatch(context);
                    }

                    break;
            }

            return Task.CompletedTask;
        }

        private void SendBatch(IContext context)
        {
            int n = _volleys.NextBatch();
            for (int i = 0; i < n; i++)
            {
                context.Request(_ponger!, new Ping());
            }
        }
    }

    private sealed class UserPongActor : IActor
    {
        public Task ReceiveAsync(IContext context)
        {
            if (context.Message is Ping)
            {
                context.Respond(new Pong());
            }

            return Task.CompletedTask;
        }
    }

    // ---- a request answered by a record ----
    private sealed record Quote(string Item);

    private sealed record Price(string Item, int Amount);

    private sealed class PriceActor : IActor
    {
        public Task ReceiveAsync(IContext context)
        {
            if (context.Message is Quote q)
            {
                context.Respond(new Price(q.Item, 42));
            }

            return Task.CompletedTask;
        }
    }

    // ---- request/response ----
    private sealed record Ask
    {
        public static readonly Ask Instance = new();
    }

    private sealed class AnswerActor : IActor
    {
        public Task ReceiveAsync(IContext context)
        {
            if (context.Message is Ask)
            {
                context.Respond(42);
            }

            return Task.CompletedTask;
        }
    }

    // ---- spawn tree (SpawnBenchmark's MyActor) ----
    private sealed record Skynet(long Num, long Size, long Div);

    private sealed class SkynetActor : IActor
    {
        public static readonly Props Props = Props.FromProducer(static () => new SkynetActor());
        private long _replies;
        private long _sum;
        private PID? _replyTo;

        public Task ReceiveAsync(IContext context)
        {
            switch (context.Message)
            {
                case Skynet r when r.Size == 1:
                    context.Respond(r.Num);
                    context.Stop(context.Self);
                    break;
                case Skynet r:
                    _replies = r.Div;
                    _replyTo = context.Sender;
                    long step = r.Size / r.Div;
                    for (int i = 0; i < r.Div; i++)
                    {
                        PID child = context.Spawn(Props);
                        context.Request(child, new Skynet(r.Num + (i * step), step, r.Div));
                    }

                    break;
                case long answer:
                    _sum += answer;
                    if (--_replies == 0)
                    {
                        context.Send(_replyTo!, _sum);
                        context.Stop(context.Self);
                    }

                    break;
            }

            return Task.CompletedTask;
        }
    }

    // ---- idle actors ----
    private sealed class IdleActor : IActor
    {
        private static int s_started;
        private static TaskCompletionSource s_all = new();
        private static int s_expected;

        public static void Reset()
        {
            s_started = 0;
            s_all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        public static Task WaitStartedAsync(int count)
        {
            Volatile.Write(ref s_expected, count);
            if (Volatile.Read(ref s_started) >= count)
            {
                s_all.TrySetResult();
            }

            return s_all.Task;
        }

        public Task ReceiveAsync(IContext context)
        {
            if (context.Message is Started)
            {
                int started = Interlocked.Increment(ref s_started);
                int expected = Volatile.Read(ref s_expected);
                if (expected > 0 && started >= expected)
                {
                    s_all.TrySetResult();
                }
            }

            return Task.CompletedTask;
        }
    }

    // ---- fan-out through a child aggregator ----
    private sealed record Fanout(PID[] Workers);

    private sealed record Work
    {
        public static readonly Work Instance = new();
    }

    private sealed class WorkerActor : IActor
    {
        public Task ReceiveAsync(IContext context)
        {
            if (context.Message is Work)
            {
                context.Respond(1);
            }

            return Task.CompletedTask;
        }
    }

    private sealed class FanoutCoordinator : IActor
    {
        public Task ReceiveAsync(IContext context)
        {
            if (context.Message is Fanout f)
            {
                PID replyTo = context.Sender!;
                context.Spawn(Props.FromProducer(() => new AggregatorActor(f.Workers, replyTo)));
            }

            return Task.CompletedTask;
        }
    }

    private sealed class AggregatorActor(PID[] workers, PID replyTo) : IActor
    {
        private long _sum;
        private int _replies;

        public Task ReceiveAsync(IContext context)
        {
            switch (context.Message)
            {
                case Started:
                    foreach (PID worker in workers)
                    {
                        context.Request(worker, Work.Instance);
                    }

                    break;
                case int answer:
                    _sum += answer;
                    if (++_replies == workers.Length)
                    {
                        context.Send(replyTo, _sum);
                        context.Stop(context.Self);
                    }

                    break;
            }

            return Task.CompletedTask;
        }
    }

    // ---- jobs: a coordinator runs each job as a child actor, at most maxActive at once ----
    private sealed record SubmitJob(int Seed);

    private sealed record RunJob(int Seed);

    private sealed record JobDone;

    private sealed record CompleteJobs
    {
        public static readonly CompleteJobs Instance = new();
    }

    private sealed class JobCoordinator(int maxActive, TaskCompletionSource<long> finished) : IActor
    {
        private static readonly Props s_jobProps = Props.FromProducer(static () => new JobActor());
        private static readonly JobDone s_done = new();
        private readonly Queue<int> _waiting = new();
        private int _active;
        private long _done;
        private bool _complete;

        public Task ReceiveAsync(IContext context)
        {
            switch (context.Message)
            {
                case SubmitJob s:
                    if (_active < maxActive)
                    {
                        Run(context, s.Seed);
                    }
                    else
                    {
                        _waiting.Enqueue(s.Seed);
                    }

                    break;
                case JobDone:
                    _active--;
                    _done++;
                    if (_waiting.TryDequeue(out int next))
                    {
                        Run(context, next);
                    }

                    Check();
                    break;
                case CompleteJobs:
                    _complete = true;
                    Check();
                    break;
            }

            return Task.CompletedTask;
        }

        private void Run(IContext context, int seed)
        {
            _active++;
            PID job = context.Spawn(s_jobProps);
            context.Send(job, new RunJob(seed));
        }

        private void Check()
        {
            if (_complete && _active == 0 && _waiting.Count == 0)
            {
                finished.TrySetResult(_done);
            }
        }

        private sealed class JobActor : IActor
        {
            public Task ReceiveAsync(IContext context)
            {
                if (context.Message is RunJob run)
                {
                    TinyWork.Run(run.Seed);
                    context.Send(context.Parent!, s_done);
                    context.Stop(context.Self);
                }

                return Task.CompletedTask;
            }
        }
    }
}
