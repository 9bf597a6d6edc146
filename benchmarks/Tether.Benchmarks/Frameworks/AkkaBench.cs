using Akka.Actor;
using Akka.Configuration;

namespace Tether.Benchmarks.Frameworks;

/// <summary>
/// Akka.NET 1.5.74 in its defaults: <c>ActorSystem.Create</c>, the default dispatcher (throughput 30), unbounded mailboxes,
/// <c>ReceiveActor</c> with <c>Receive&lt;T&gt;</c>, <c>Tell</c> (the implicit sender) and <c>Ask</c> from outside. Only logging is
/// quietened (ERROR, no dead-letter logging at shutdown), which costs nothing on the measured paths.
/// </summary>
internal sealed class AkkaBench : IBenchSystem
{
    private static readonly Config s_config = ConfigurationFactory.ParseString("""
        akka.loglevel = ERROR
        akka.stdout-loglevel = ERROR
        akka.log-dead-letters-during-shutdown = off
        akka.suppress-json-serializer-warning = on
        """);

    private static readonly TimeSpan s_askTimeout = TimeSpan.FromSeconds(30);
    private readonly ActorSystem _system = ActorSystem.Create("bench", s_config);

    public Task<Func<Task>> PreparePingPongAsync(int pairs, int roundTrips, int inFlight)
    {
        var done = new Task[pairs];
        var starts = new (IActorRef Pinger, IActorRef Ponger)[pairs];
        Props pongProps = Props.Create(() => new PongActor());
        for (int i = 0; i < pairs; i++)
        {
            var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            done[i] = finished.Task;
            starts[i] = (_system.ActorOf(Props.Create(() => new PingActor(roundTrips, inFlight, finished))), _system.ActorOf(pongProps));
        }

        return Task.FromResult<Func<Task>>(() =>
        {
            foreach ((IActorRef pinger, IActorRef ponger) in starts)
            {
                pinger.Tell(new Start(ponger));
            }

            return Task.WhenAll(done);
        });
    }

    public Task<Func<Task>> PrepareUserStylePingPongAsync(int roundTrips, int inFlight)
    {
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        IActorRef pinger = _system.ActorOf(Props.Create(() => new UserPingActor(roundTrips, inFlight, finished)));
        IActorRef ponger = _system.ActorOf(Props.Create(() => new UserPongActor()));
        return Task.FromResult<Func<Task>>(() =>
        {
            pinger.Tell(new Start(ponger));
            return finished.Task;
        });
    }

    public Task<Func<Task<int>>> PrepareRecordRequestAsync()
    {
        IActorRef pricer = _system.ActorOf(Props.Create(() => new PriceActor()));
        return Task.FromResult<Func<Task<int>>>(async () => (await pricer.Ask<Price>(new Quote("apple"), s_askTimeout)).Amount);
    }

    public Task<Func<Task<int>>> PrepareRequestAsync()
    {
        IActorRef answerer = _system.ActorOf(Props.Create(() => new AnswerActor()));
        return Task.FromResult<Func<Task<int>>>(() => answerer.Ask<int>(Ask.Instance, s_askTimeout));
    }

    public async Task<long> SpawnTreeAsync(int size, int div, TimeSpan timeout)
    {
        IActorRef root = _system.ActorOf(SkynetActor.Props);
        return await root.Ask<long>(new Skynet(0, size, div), timeout);
    }

    public async Task<(long Before, long After)> SpawnIdleAsync(int count, Func<long> measure)
    {
        var keep = new IActorRef[count];
        Props props = Props.Create(() => new IdleActor());
        IdleActor.Reset();
        long before = measure();
        for (int i = 0; i < count; i++)
        {
            keep[i] = _system.ActorOf(props);
        }

        await IdleActor.WaitStartedAsync(count);
        long after = measure();
        GC.KeepAlive(keep);
        return (before, after);
    }

    public Task<Func<Task<long>>> PrepareFanoutAsync(int workers)
    {
        var refs = new IActorRef[workers];
        Props workerProps = Props.Create(() => new WorkerActor());
        for (int i = 0; i < workers; i++)
        {
            refs[i] = _system.ActorOf(workerProps);
        }

        IActorRef coordinator = _system.ActorOf(Props.Create(() => new FanoutCoordinator()));
        var request = new Fanout(refs);
        return Task.FromResult<Func<Task<long>>>(() => coordinator.Ask<long>(request, s_askTimeout));
    }

    public async Task RunJobsAsync(int jobs, int maxActive)
    {
        var finished = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        IActorRef coordinator = _system.ActorOf(Props.Create(() => new JobCoordinator(maxActive, finished)));
        for (int i = 0; i < jobs; i++)
        {
            coordinator.Tell(new SubmitJob(i));
        }

        coordinator.Tell(CompleteJobs.Instance);
        long done = await finished.Task;
        if (done != jobs)
        {
            throw new InvalidOperationException($"The coordinator finished {done} of {jobs} jobs.");
        }
    }

    public async ValueTask DisposeAsync() => await _system.Terminate();

    // ---- ping-pong ----
    private sealed record Start(IActorRef Ponger);

    private sealed record Ball
    {
        public static readonly Ball Instance = new();
    }

    private sealed class PingActor : ReceiveActor
    {
        private Volleys _volleys;

        public PingActor(int roundTrips, int inFlight, TaskCompletionSource done)
        {
            _volleys = new Volleys(roundTrips, inFlight, done);
            Receive<Start>(s => SendBatch(s.Ponger));
            Receive<Ball>(_ =>
            {
                if (_volleys.Returned())
                {
                    SendBatch(Sender);
                }
            });
        }

        private void SendBatch(IActorRef ponger)
        {
            int n = _volleys.NextBatch();
            for (int i = 0; i < n; i++)
            {
                ponger.Tell(Ball.Instance);
            }
        }
    }

    private sealed class PongActor : ReceiveActor
    {
        public PongActor() => Receive<Ball>(m => Sender.Tell(m));
    }

    // ---- ping-pong as a user writes it: a new message per Tell ----
    private sealed record Ping;

    private sealed record Pong;

    private sealed class UserPingActor : ReceiveActor
    {
        private Volleys _volleys;

        public UserPingActor(int roundTrips, int inFlight, TaskCompletionSource done)
        {
            _volleys = new Volleys(roundTrips, inFlight, done);
            Receive<Start>(s => SendBatch(s.Ponger));
            Receive<Pong>(_ =>
            {
                if (_volleys.Returned())
                {
                    SendBatch(Sender);
                }
            });
        }

        private void SendBatch(IActorRef ponger)
        {
            int n = _volleys.NextBatch();
            for (int i = 0; i < n; i++)
            {
                ponger.Tell(new Ping());
            }
        }
    }

    private sealed class UserPongActor : ReceiveActor
    {
        public UserPongActor() => Receive<Ping>(_ => Sender.Tell(new Pong()));
    }

    // ---- a request answered by a record ----
    private sealed record Quote(string Item);

    private sealed record Price(string Item, int Amount);

    private sealed class PriceActor : ReceiveActor
    {
        public PriceActor() => Receive<Quote>(q => Sender.Tell(new Price(q.Item, 42)));
    }

    // ---- request/response ----
    private sealed record Ask
    {
        public static readonly Ask Instance = new();
    }

    private sealed class AnswerActor : ReceiveActor
    {
        public AnswerActor() => Receive<Ask>(_ => Sender.Tell(42));
    }

    // ---- spawn tree (skynet) ----
    private sealed record Skynet(long Num, long Size, long Div);

    private sealed class SkynetActor : ReceiveActor
    {
        public static readonly Props Props = Props.Create(() => new SkynetActor());
        private long _replies;
        private long _sum;
        private IActorRef? _replyTo;

        public SkynetActor()
        {
            Receive<Skynet>(r =>
            {
                if (r.Size == 1)
                {
                    Sender.Tell(r.Num);
                    Context.Stop(Self);
                    return;
                }

                _replies = r.Div;
                _replyTo = Sender;
                long step = r.Size / r.Div;
                for (int i = 0; i < r.Div; i++)
                {
                    IActorRef child = Context.ActorOf(Props);
                    child.Tell(new Skynet(r.Num + (i * step), step, r.Div));
                }
            });
            Receive<long>(answer =>
            {
                _sum += answer;
                if (--_replies == 0)
                {
                    _replyTo!.Tell(_sum);
                    Context.Stop(Self);
                }
            });
        }
    }

    // ---- idle actors ----
    private sealed class IdleActor : ReceiveActor
    {
        private static int s_started;
        private static int s_expected;
        private static TaskCompletionSource s_all = new();

        public IdleActor() => Receive<Ball>(_ => { });

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

        protected override void PreStart()
        {
            int started = Interlocked.Increment(ref s_started);
            int expected = Volatile.Read(ref s_expected);
            if (expected > 0 && started >= expected)
            {
                s_all.TrySetResult();
            }
        }
    }

    // ---- fan-out through a child aggregator ----
    private sealed record Fanout(IActorRef[] Workers);

    private sealed record Work
    {
        public static readonly Work Instance = new();
    }

    private sealed class WorkerActor : ReceiveActor
    {
        public WorkerActor() => Receive<Work>(_ => Sender.Tell(1));
    }

    private sealed class FanoutCoordinator : ReceiveActor
    {
        public FanoutCoordinator() => Receive<Fanout>(f =>
        {
            IActorRef replyTo = Sender;
            Context.ActorOf(Props.Create(() => new AggregatorActor(f.Workers, replyTo)));
        });
    }

    private sealed class AggregatorActor : ReceiveActor
    {
        private readonly IActorRef[] _workers;
        private readonly IActorRef _replyTo;
        private long _sum;
        private int _replies;

        public AggregatorActor(IActorRef[] workers, IActorRef replyTo)
        {
            _workers = workers;
            _replyTo = replyTo;
            Receive<int>(answer =>
            {
                _sum += answer;
                if (++_replies == _workers.Length)
                {
                    _replyTo.Tell(_sum);
                    Context.Stop(Self);
                }
            });
        }

        protected override void PreStart()
        {
            foreach (IActorRef worker in _workers)
            {
                worker.Tell(Work.Instance);
            }
        }
    }

    // ---- jobs: a coordinator runs each job as a child actor, at most maxActive at once ----
    private sealed record SubmitJob(int Seed);

    private sealed record RunJob(int Seed);

    private sealed record JobDone
    {
        public static readonly JobDone Instance = new();
    }

    private sealed record CompleteJobs
    {
        public static readonly CompleteJobs Instance = new();
    }

    private sealed class JobCoordinator : ReceiveActor
    {
        private static readonly Props s_jobProps = Props.Create(() => new JobActor());
        private readonly Queue<int> _waiting = new();
        private readonly int _maxActive;
        private readonly TaskCompletionSource<long> _finished;
        private int _active;
        private long _done;
        private bool _complete;

        public JobCoordinator(int maxActive, TaskCompletionSource<long> finished)
        {
            _maxActive = maxActive;
            _finished = finished;
            Receive<SubmitJob>(s =>
            {
                if (_active < _maxActive)
                {
                    Run(s.Seed);
                }
                else
                {
                    _waiting.Enqueue(s.Seed);
                }
            });
            Receive<JobDone>(_ =>
            {
                _active--;
                _done++;
                if (_waiting.TryDequeue(out int next))
                {
                    Run(next);
                }

                Check();
            });
            Receive<CompleteJobs>(_ =>
            {
                _complete = true;
                Check();
            });
        }

        private void Run(int seed)
        {
            _active++;
            Context.ActorOf(s_jobProps).Tell(new RunJob(seed));
        }

        private void Check()
        {
            if (_complete && _active == 0 && _waiting.Count == 0)
            {
                _finished.TrySetResult(_done);
            }
        }

        private sealed class JobActor : ReceiveActor
        {
            public JobActor() => Receive<RunJob>(run =>
            {
                TinyWork.Run(run.Seed);
                Context.Parent.Tell(JobDone.Instance);
                Context.Stop(Self);
            });
        }
    }
}
