using System.Collections.Concurrent;
using Tether.Tests.TestSupport;

namespace Tether.Tests;

/// <summary>A handler takes its reply obligation as a <see cref="ReplyToken{T}"/> and hands it to a working target.</summary>
public sealed class DeferredReplyTests
{
    [Fact]
    public async Task Deferred_WorkingTargetAnswers_RequesterGetsItsAnswerAndWorkerEnds()
    {
        await using Node node = Node.Create();
        var log = new WorkerLog();
        Address front = node.Spawn(() => new Front(log));

        int answer = await node.Request(front, new Compute(21, Answers: [42])).Within("the working target answers");

        Assert.Equal(42, answer);
        await Eventually.Until(() => node.Statistics.Targets == 1, "the working target ends itself after answering");
        Assert.Equal([true], log.TryReplyResults);
    }

    [Fact]
    public async Task Deferred_SecondAnswer_IsRefusedAndRequesterSeesOnlyTheFirst()
    {
        await using Node node = Node.Create();
        var log = new WorkerLog();
        Address front = node.Spawn(() => new Front(log));

        int answer = await node.Request(front, new Compute(1, Answers: [1, 2], ThenReply: 3)).Within("the working target answers");

        Assert.Equal(1, answer);
        await Eventually.Until(() => log.ReplyErrors.Count == 1, "the worker's third answer with Reply throws");
        Assert.Equal([true, false], log.TryReplyResults);
        Assert.Equal(ErrorCodes.AlreadyAnswered, log.ReplyErrors.Single().Code);
        Assert.True(log.IsAnsweredAfter.Single());
    }

    [Fact]
    public async Task Deferred_NobodyAnswersBeforeTheDeadline_RequesterGetsTimeoutAndLateAnswerIsRefused()
    {
        var time = new ManualTimeProvider();
        await using Node node = Node.Create(new NodeOptions { TimeProvider = time });
        var log = new WorkerLog();
        Address front = node.Spawn(() => new Front(log));

        ValueTask<int> request = node.Request(front, new Compute(1, Answers: []), TimeSpan.FromMilliseconds(200));
        ReplyToken<int> token = await log.Held.Task.Within("the working target holds the token");
        Assert.False(token.IsAnswered);

        time.Advance(TimeSpan.FromMilliseconds(220));

        await request.FailsWith(ErrorCodes.Timeout, "the unanswered deferred request");
        Assert.True(token.IsAnswered);
        Assert.False(token.TryReply(7));
        Assert.Equal(ErrorCodes.AlreadyAnswered, Assert.Throws<TetherException>(() => token.Reply(7)).Code);
        Assert.Equal(ErrorCodes.AlreadyAnswered, Assert.Throws<TetherException>(() => token.Fail("x", "y")).Code);
    }

    [Fact]
    public async Task Deferred_WorkerFails_RequesterGetsTheWorkersCode()
    {
        await using Node node = Node.Create();
        var log = new WorkerLog();
        Address front = node.Spawn(() => new Front(log));

        TetherException error = await node.Request(front, new Compute(1, Answers: [], FailWith: "out-of-stock"))
            .FailsWith("out-of-stock", "the worker fails the request");

        Assert.Equal("the worker said no", error.Message);
    }

    [Fact]
    public async Task ReplyToken_Requester_NamesTheAskingTargetOrNone()
    {
        await using Node node = Node.Create();
        var log = new WorkerLog();
        Address front = node.Spawn(() => new Front(log));
        Address asker = node.Spawn(() => new Asker());

        await node.Request(front, new Compute(1, Answers: [1])).Within("a request from outside");
        await node.Request(asker, new AskFront(front)).Within("a request from a target");

        Assert.Equal([Address.None, asker], log.Requesters);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task ReplyToken_TwoWorkersAnswerAtOnce_ExactlyOneWins(int round)
    {
        await using Node node = Node.Create();
        var log = new WorkerLog();
        Address front = node.Spawn(() => new RacingFront(log));

        Task<int>[] requests = [.. Enumerable.Range(0, 200).Select(i => node.Request(front, new Race(i)).AsTask())];
        int[] answers = await Task.WhenAll(requests).Within($"round {round}: 200 raced requests are answered");

        await Eventually.Until(() => log.TryReplyResults.Count == 400, "both workers of every request have tried");
        Assert.Equal(200, log.TryReplyResults.Count(won => won));
        for (int i = 0; i < 200; i++)
        {
            // The two workers answer 2i and 2i+1; the winner's value is what the requester got.
            Assert.True(answers[i] == 2 * i || answers[i] == (2 * i) + 1, $"request {i} got {answers[i]}");
            Assert.Contains(answers[i], log.Winners);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task ReplyToken_AnswerRacesTheDeadline_RequesterOutcomeMatchesWhoWon(int round)
    {
        await using Node node = Node.Create(new NodeOptions { DeadlineSweepInterval = TimeSpan.FromMilliseconds(1) });
        var log = new WorkerLog();
        Address front = node.Spawn(() => new Front(log));
        const int count = 300;

        var requests = new Task<int>[count];
        for (int i = 0; i < count; i++)
        {
            requests[i] = node.Request(front, new Compute(i, Answers: [i]), TimeSpan.FromMilliseconds(1 + (i % 4))).AsTask();
        }

        await Task.WhenAll(requests.Select(r => r.ContinueWith(static _ => { }, TaskScheduler.Default)))
            .Within($"round {round}: every raced request ends");

        // A request that timed out while still queued at the front is skipped, so it has no worker.
        int workers = await node.Request(front, new CountWorkers()).Within("the front counts the workers it spawned");
        await Eventually.Until(() => log.ByValue.Count == workers, "every spawned worker has tried to answer");

        for (int i = 0; i < count; i++)
        {
            if (log.ByValue.TryGetValue(i, out bool won) && won)
            {
                Assert.True(requests[i].IsCompletedSuccessfully, $"request {i}: the worker's answer won but the requester did not get it");
                Assert.Equal(i, await requests[i]);
            }
            else
            {
                TetherException error = Assert.IsType<TetherException>(requests[i].Exception?.InnerException);
                Assert.Equal(ErrorCodes.Timeout, error.Code);
            }
        }

        Assert.Equal(0, node.Statistics.PendingRequests);
    }

    private sealed record Compute(int N, int[] Answers, int? ThenReply = null, string? FailWith = null) : IRequest<int>;

    private sealed record Work(ReplyToken<int> Token, Compute Request);

    private sealed record Race(int N) : IRequest<int>;

    private sealed record RaceWork(ReplyToken<int> Token, int Value, ManualResetEventSlim Start);

    private sealed record AskFront(Address Front) : IRequest<int>;

    private sealed record CountWorkers : IRequest<int>;

    private sealed class WorkerLog
    {
        public ConcurrentQueue<bool> TryReplyResults { get; } = new();

        public ConcurrentQueue<TetherException> ReplyErrors { get; } = new();

        public ConcurrentQueue<bool> IsAnsweredAfter { get; } = new();

        public ConcurrentQueue<Address> Requesters { get; } = new();

        public ConcurrentBag<int> Winners { get; } = [];

        public ConcurrentDictionary<int, bool> ByValue { get; } = new();

        public TaskCompletionSource<ReplyToken<int>> Held { get; } = Waits.NewSignal<ReplyToken<int>>();
    }

    /// <summary>Takes Compute with a deferred reply and hands it to a fresh working target.</summary>
    private sealed class Front(WorkerLog log) : Target, ITarget<Front>
    {
        private readonly WorkerLog _log = log;
        private int _spawned;

        public static void Wire(Channels<Front> channels) => channels
            .Deferred<Compute, int>(static (self, m, reply, ctx) =>
            {
                self._log.Requesters.Enqueue(reply.Requester);
                Address worker = ctx.Spawn(() => new Worker(self._log));
                self._spawned++;
                ctx.Send(worker, new Work(reply, m));
            })
            .Request<CountWorkers, int>(static (self, m, ctx) => self._spawned);
    }

    private sealed class Worker(WorkerLog log) : Target, ITarget<Worker>
    {
        public static void Wire(Channels<Worker> channels) => channels
            .On<Work>(static (self, m, ctx) => self.Do(m, ctx));

        private void Do(Work work, Context ctx)
        {
            Compute request = work.Request;
            if (request.FailWith is { } code)
            {
                work.Token.Fail(code, "the worker said no");
                ctx.EndSelf();
                return;
            }

            if (request.Answers.Length == 0)
            {
                log.Held.TrySetResult(work.Token); // holds the obligation and never answers
                return;
            }

            foreach (int answer in request.Answers)
            {
                bool won = work.Token.TryReply(answer);
                log.TryReplyResults.Enqueue(won);
                log.ByValue[request.N] = won;
            }

            if (request.ThenReply is { } value)
            {
                try
                {
                    work.Token.Reply(value);
                }
                catch (TetherException ex)
                {
                    log.ReplyErrors.Enqueue(ex);
                }

                log.IsAnsweredAfter.Enqueue(work.Token.IsAnswered);
            }

            ctx.EndSelf();
        }
    }

    /// <summary>Hands each Race's token to two working targets that answer at the same moment.</summary>
    private sealed class RacingFront(WorkerLog log) : Target, ITarget<RacingFront>
    {
        private readonly WorkerLog _log = log;

        public static void Wire(Channels<RacingFront> channels) => channels
            .Deferred<Race, int>(static (self, m, reply, ctx) =>
            {
                var start = new ManualResetEventSlim();
                ctx.Send(ctx.Spawn(() => new Racer(self._log)), new RaceWork(reply, 2 * m.N, start));
                ctx.Send(ctx.Spawn(() => new Racer(self._log)), new RaceWork(reply, (2 * m.N) + 1, start));
                start.Set();
            });
    }

    private sealed class Racer(WorkerLog log) : Target, ITarget<Racer>
    {
        private readonly WorkerLog _log = log;

        public static void Wire(Channels<Racer> channels) => channels
            .On<RaceWork>(static (self, m, ctx) =>
            {
                m.Start.Wait(TimeSpan.FromSeconds(30));
                bool won = m.Token.TryReply(m.Value);
                if (won)
                {
                    self._log.Winners.Add(m.Value);
                }

                self._log.TryReplyResults.Enqueue(won);
                ctx.EndSelf();
            });
    }

    private sealed class Asker : Target, ITarget<Asker>
    {
        public static void Wire(Channels<Asker> channels) => channels
            .RequestAsync<AskFront, int>(static async (self, m, ctx) => await ctx.Request(m.Front, new Compute(5, Answers: [5])));
    }
}
