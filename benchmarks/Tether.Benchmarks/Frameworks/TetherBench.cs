namespace Tether.Benchmarks.Frameworks;

/// <summary>Tether, written as a user would: static-lambda channels, requests with IRequest, a deferred reply handed to a working target.</summary>
internal sealed class TetherBench : IBenchSystem
{
    private readonly Node _node = Node.Create(new NodeOptions { Name = "bench" });

    public async Task<Func<Task>> PreparePingPongAsync(int pairs, int roundTrips, int inFlight)
    {
        var done = new Task[pairs];
        var starts = new (Address Pinger, Address Ponger)[pairs];
        for (int i = 0; i < pairs; i++)
        {
            var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            done[i] = finished.Task;
            starts[i] = (_node.Spawn(() => new Pinger(roundTrips, inFlight, finished)), _node.Spawn(static () => new Ponger()));
        }

        await Task.CompletedTask;
        return () =>
        {
            foreach ((Address pinger, Address ponger) in starts)
            {
                _node.Send(pinger, new Serve(ponger));
            }

            return Task.WhenAll(done);
        };
    }

    public Task<Func<Task>> PrepareUserStylePingPongAsync(int roundTrips, int inFlight)
    {
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Address pinger = _node.Spawn(() => new UserPinger(roundTrips, inFlight, finished));
        Address ponger = _node.Spawn(static () => new UserPonger());
        return Task.FromResult<Func<Task>>(() =>
        {
            _node.Send(pinger, new Serve(ponger));
            return finished.Task;
        });
    }

    public Task<Func<Task<int>>> PrepareRecordRequestAsync()
    {
        Address pricer = _node.Spawn(static () => new Pricer());
        return Task.FromResult<Func<Task<int>>>(async () => (await _node.Request(pricer, new Quote("apple"))).Amount);
    }

    public Task<Func<Task<int>>> PrepareRequestAsync()
    {
        Address answerer = _node.Spawn(static () => new Answerer());
        return Task.FromResult<Func<Task<int>>>(async () => await _node.Request(answerer, Ask.Instance));
    }

    public async Task<long> SpawnTreeAsync(int size, int div, TimeSpan timeout)
    {
        Address root = _node.Spawn(static () => new SkynetTarget());
        return await _node.Request(root, new Skynet(0, size, div, timeout), timeout);
    }

    public Task<(long Before, long After)> SpawnIdleAsync(int count, Func<long> measure)
    {
        var keep = new Address[count];
        long before = measure();
        for (int i = 0; i < count; i++)
        {
            keep[i] = _node.Spawn(static () => new IdleTarget());
        }

        long after = measure();
        GC.KeepAlive(keep);
        return Task.FromResult((before, after));
    }

    public Task<Func<Task<long>>> PrepareFanoutAsync(int workers)
    {
        var addresses = new Address[workers];
        for (int i = 0; i < workers; i++)
        {
            addresses[i] = _node.Spawn(static () => new FanoutWorker());
        }

        Address coordinator = _node.Spawn(static () => new FanoutCoordinator());
        var request = new Fanout(addresses);
        return Task.FromResult<Func<Task<long>>>(async () => await _node.Request(coordinator, request));
    }

    public async Task RunJobsAsync(int jobs, int maxActive)
    {
        var engine = JobEngine.Start(_node, new JobEngineOptions { MaxActive = maxActive });
        for (int i = 0; i < jobs; i++)
        {
            engine.Submit(new TinyJob(i));
        }

        engine.Complete();
        JobSummary summary = await engine.Completion;
        if (summary.Progress.Done != jobs)
        {
            throw new InvalidOperationException($"The job engine finished {summary.Progress.Done} of {jobs} jobs ({summary.Progress.Failed} failed).");
        }
    }

    public ValueTask DisposeAsync() => _node.DisposeAsync();

    // ---- ping-pong ----
    private sealed record Serve(Address Ponger);

    private sealed record Ball
    {
        public static readonly Ball Instance = new();
    }

    private sealed class Pinger(int roundTrips, int inFlight, TaskCompletionSource done) : Target, ITarget<Pinger>
    {
        private Volleys _volleys = new(roundTrips, inFlight, done);

        public static void Wire(Channels<Pinger> channels) => channels
            .On<Serve>(static (self, m, ctx) => self.SendBatch(m.Ponger, ctx))
            .On<Ball>(static (self, _, ctx) =>
            {
                if (self._volleys.Returned())
                {
                    self.SendBatch(ctx.Sender, ctx);
                }
            });

        private void SendBatch(Address ponger, Context ctx)
        {
            int n = _volleys.NextBatch();
            for (int i = 0; i < n; i++)
            {
                ctx.Send(ponger, Ball.Instance);
            }
        }
    }

    private sealed class Ponger : Target, ITarget<Ponger>
    {
        public static void Wire(Channels<Ponger> channels)
            => channels.On<Ball>(static (_, m, ctx) => ctx.Send(ctx.Sender, m));
    }

    // ---- ping-pong as a user writes it: a new message per send ----
    private sealed record Ping;

    private sealed record Pong;

    private sealed class UserPinger(int roundTrips, int inFlight, TaskCompletionSource done) : Target, ITarget<UserPinger>
    {
        private Volleys _volleys = new(roundTrips, inFlight, done);

        public static void Wire(Channels<UserPinger> channels) => channels
            .On<Serve>(static (self, m, ctx) => self.SendBatch(m.Ponger, ctx))
            .On<Pong>(static (self, _, ctx) =>
            {
                if (self._volleys.Returned())
                {
                    self.SendBatch(ctx.Sender, ctx);
                }
            });

        private void SendBatch(Address ponger, Context ctx)
        {
            int n = _volleys.NextBatch();
            for (int i = 0; i < n; i++)
            {
                ctx.Send(ponger, new Ping());
            }
        }
    }

    private sealed class UserPonger : Target, ITarget<UserPonger>
    {
        public static void Wire(Channels<UserPonger> channels)
            => channels.On<Ping>(static (_, _, ctx) => ctx.Send(ctx.Sender, new Pong()));
    }

    // ---- a request answered by a record, as in README ----
    private sealed record Quote(string Item) : IRequest<Price>;

    private sealed record Price(string Item, int Amount);

    private sealed class Pricer : Target, ITarget<Pricer>
    {
        public static void Wire(Channels<Pricer> channels)
            => channels.Request<Quote, Price>(static (_, m, _) => new Price(m.Item, 42));
    }

    // ---- request/response ----
    private sealed record Ask : IRequest<int>
    {
        public static readonly Ask Instance = new();
    }

    private sealed class Answerer : Target, ITarget<Answerer>
    {
        public static void Wire(Channels<Answerer> channels)
            => channels.Request<Ask, int>(static (_, _, _) => 42);
    }

    // ---- spawn tree (skynet) ----
    // Timeout: the whole tree is alive at once, so the inner requests get the outer deadline rather than the 30 s default
    // (the peers' inner requests have no deadline at all).
    private sealed record Skynet(long Num, long Size, long Div, TimeSpan Timeout) : IRequest<long>;

    private sealed class SkynetTarget : Target, ITarget<SkynetTarget>
    {
        public static void Wire(Channels<SkynetTarget> channels)
            => channels.RequestAsync<Skynet, long>(static (_, m, ctx) => Handle(m, ctx));

        private static ValueTask<long> Handle(Skynet m, Context ctx)
        {
            if (m.Size == 1)
            {
                ctx.EndSelf();
                return new ValueTask<long>(m.Num);
            }

            return Fork(m, ctx);
        }

        private static async ValueTask<long> Fork(Skynet m, Context ctx)
        {
            var pending = new ValueTask<long>[m.Div];
            long step = m.Size / m.Div;
            for (int i = 0; i < pending.Length; i++)
            {
                Address child = ctx.Spawn(static () => new SkynetTarget());
                pending[i] = ctx.Request(child, new Skynet(m.Num + (i * step), step, m.Div, m.Timeout), m.Timeout);
            }

            long sum = 0;
            foreach (ValueTask<long> answer in pending)
            {
                sum += await answer;
            }

            ctx.EndSelf();
            return sum;
        }
    }

    // ---- idle targets ----
    private sealed record Poke;

    private sealed class IdleTarget : Target, ITarget<IdleTarget>
    {
        public static void Wire(Channels<IdleTarget> channels) => channels.On<Poke>(static (_, _, _) => { });
    }

    // ---- fan-out through a working target ----
    private sealed record Fanout(Address[] Workers) : IRequest<long>;

    private sealed record Work : IRequest<int>
    {
        public static readonly Work Instance = new();
    }

    private sealed record Go
    {
        public static readonly Go Instance = new();
    }

    private sealed class FanoutWorker : Target, ITarget<FanoutWorker>
    {
        public static void Wire(Channels<FanoutWorker> channels)
            => channels.Request<Work, int>(static (_, _, _) => 1);
    }

    private sealed class FanoutCoordinator : Target, ITarget<FanoutCoordinator>
    {
        public static void Wire(Channels<FanoutCoordinator> channels)
            => channels.Deferred<Fanout, long>(static (_, m, token, ctx) =>
            {
                Address aggregator = ctx.Spawn(() => new Aggregator(m.Workers, token));
                ctx.Send(aggregator, Go.Instance);
            });
    }

    private sealed class Aggregator(Address[] workers, ReplyToken<long> token) : Target, ITarget<Aggregator>
    {
        public static void Wire(Channels<Aggregator> channels)
            => channels.OnAsync<Go>(static (self, _, ctx) => self.RunAsync(ctx));

        private async ValueTask RunAsync(Context ctx)
        {
            var pending = new ValueTask<int>[workers.Length];
            for (int i = 0; i < workers.Length; i++)
            {
                pending[i] = ctx.Request(workers[i], Work.Instance);
            }

            long sum = 0;
            foreach (ValueTask<int> answer in pending)
            {
                sum += await answer;
            }

            token.Reply(sum);
            ctx.EndSelf();
        }
    }

    // ---- jobs ----
    private sealed class TinyJob(int seed) : Job
    {
        public override ValueTask RunAsync(JobContext context)
        {
            TinyWork.Run(seed);
            return ValueTask.CompletedTask;
        }
    }
}
