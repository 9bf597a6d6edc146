using Microsoft.Extensions.Logging;
using Tether.Tests.TestSupport;

namespace Tether.Tests;

/// <summary>A handler that throws does not kill the node; the requester gets an error; supervision decides and is logged.</summary>
public sealed class SupervisionTests
{
    [Fact]
    public async Task Resume_HandlerThrows_RequesterGetsHandlerFailedAndStateIsKept()
    {
        var logs = new RecordingLoggerProvider();
        await using Node node = Node.Create(new NodeOptions { LoggerFactory = logs.CreateFactory() });
        var created = new Counter();
        Address target = node.Spawn(() => new Account(created), new SpawnOptions { Supervision = Supervision.Resume });
        await AddThree(node, target);

        TetherException error = await node.Request(target, new Boom()).FailsWith(ErrorCodes.HandlerFailed, "the throwing handler");

        Assert.Contains(nameof(InvalidOperationException), error.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(error.InnerException);
        Assert.Equal(3, await node.Request(target, new GetBalance()).Within("the resumed target answers"));
        Assert.Equal(1, created.Value);
        Assert.Equal(1, node.Statistics.HandlerFailures);
        AssertLogged(logs, target, "Resume");
    }

    [Fact]
    public async Task Restart_HandlerThrows_FreshStateAtTheSameAddress()
    {
        var logs = new RecordingLoggerProvider();
        await using Node node = Node.Create(new NodeOptions { LoggerFactory = logs.CreateFactory() });
        var created = new Counter();
        Address target = node.Spawn(() => new Account(created), new SpawnOptions { Supervision = Supervision.Restart });
        await AddThree(node, target);

        await node.Request(target, new Boom()).FailsWith(ErrorCodes.HandlerFailed, "the throwing handler");

        Assert.Equal(0, await node.Request(target, new GetBalance()).Within("the restarted target answers at the same address"));
        Assert.Equal(2, created.Value);
        Assert.Equal(2, created.Started);
        Assert.Equal(1, node.Statistics.Targets);
        Assert.Equal(1, await node.Request(target, new Deposit(1)).Within("the fresh instance handles messages"));
        AssertLogged(logs, target, "Restart");
    }

    [Fact]
    public async Task Stop_HandlerThrows_TargetEndsAndAddressIsFreed()
    {
        var logs = new RecordingLoggerProvider();
        await using Node node = Node.Create(new NodeOptions { LoggerFactory = logs.CreateFactory() });
        var created = new Counter();
        var account = new Account(created);
        Address target = node.Spawn(() => account, new SpawnOptions { Supervision = Supervision.Stop });

        await node.Request(target, new Boom()).FailsWith(ErrorCodes.HandlerFailed, "the throwing handler");

        string reason = await account.Ended.Task.Within("the stopped target ends");
        Assert.Contains("stopped by supervision", reason, StringComparison.Ordinal);
        await node.Request(target, new GetBalance()).FailsWith(ErrorCodes.NoSuchTarget, "a request to the stopped target");
        AssertLogged(logs, target, "Stop");
    }

    [Theory]
    [InlineData(Supervision.Resume)]
    [InlineData(Supervision.Restart)]
    [InlineData(Supervision.Stop)]
    public async Task TetherException_ThrownByHandler_ReachesRequesterWithItsCodeAndSupervisionDoesNotAct(Supervision supervision)
    {
        var logs = new RecordingLoggerProvider();
        await using Node node = Node.Create(new NodeOptions { LoggerFactory = logs.CreateFactory() });
        var created = new Counter();
        Address target = node.Spawn(() => new Account(created), new SpawnOptions { Supervision = supervision });
        await AddThree(node, target);

        TetherException error = await node.Request(target, new Withdraw(100)).FailsWith("insufficient-funds", "the refused withdrawal");

        Assert.Equal("balance 3 is less than 100", error.Message);
        Assert.Equal(3, await node.Request(target, new GetBalance()).Within("the target keeps its state after a deliberate error"));
        Assert.Equal(1, created.Value);
        Assert.Equal(0, node.Statistics.HandlerFailures);
        Assert.DoesNotContain(logs.Entries, e => e.EventId.Id == 1);
    }

    [Fact]
    public async Task Handler_ThrowsAfterAwait_RequesterGetsHandlerFailed()
    {
        await using Node node = Node.Create();
        var created = new Counter();
        Address target = node.Spawn(() => new Account(created));

        await node.Request(target, new BoomLater()).FailsWith(ErrorCodes.HandlerFailed, "the handler that throws after an await");

        Assert.Equal(0, await node.Request(target, new GetBalance()).Within("the target goes on"));
        Assert.Equal(1, node.Statistics.HandlerFailures);
    }

    [Fact]
    public async Task Handler_ThrowsOnSend_IsLoggedCountedAndTargetGoesOn()
    {
        var logs = new RecordingLoggerProvider();
        await using Node node = Node.Create(new NodeOptions { LoggerFactory = logs.CreateFactory() });
        var created = new Counter();
        Address target = node.Spawn(() => new Account(created));

        node.Send(target, new Boom());
        node.Send(target, new Deposit(2));

        Assert.Equal(2, await node.Request(target, new GetBalance()).Within("the target goes on after the failed send"));
        Assert.Equal(1, node.Statistics.HandlerFailures);
        AssertLogged(logs, target, "Resume");
    }

    [Fact]
    public async Task Handler_ThrowsInManyTargets_OtherTargetsOnTheNodeKeepServing()
    {
        await using Node node = Node.Create();
        var created = new Counter();
        Address[] targets = [.. Enumerable.Range(0, 10).Select(_ => node.Spawn(() => new Account(created), new SpawnOptions { Supervision = Supervision.Stop }))];
        Address bystander = node.Spawn(() => new Probe());

        await Task.WhenAll(targets.Select(t => node.Request(t, new Boom()).FailsWith(ErrorCodes.HandlerFailed, "every failing target")))
            .Within("all failures are reported");

        Assert.Equal(7, await node.Request(bystander, new Ping(7)).Within("a bystander still answers"));
        Assert.Equal(10, node.Statistics.HandlerFailures);
        await Eventually.Until(() => node.Statistics.Targets == 1, "the stopped targets are gone, the bystander stays");
    }

    [Fact]
    public async Task Restart_CreateThrows_TargetEndsAndFailureIsLogged()
    {
        var logs = new RecordingLoggerProvider();
        await using Node node = Node.Create(new NodeOptions { LoggerFactory = logs.CreateFactory() });
        var created = new Counter();
        var first = new Account(created);
        int calls = 0;
        Address target = node.Spawn(
            () => Interlocked.Increment(ref calls) == 1 ? first : throw new InvalidOperationException("no second account"),
            new SpawnOptions { Supervision = Supervision.Restart });

        await node.Request(target, new Boom()).FailsWith(ErrorCodes.HandlerFailed, "the throwing handler");

        await Eventually.Until(() => node.Statistics.Targets == 0, "the target whose restart failed ends");
        Assert.Contains(logs.Entries, e => e.EventId.Id == 2 && e.Level == LogLevel.Error);
        await node.Request(target, new GetBalance()).FailsWith(ErrorCodes.NoSuchTarget, "a request after the failed restart");
    }

    private static async Task AddThree(Node node, Address target)
    {
        for (int i = 1; i <= 3; i++)
        {
            Assert.Equal(i, await node.Request(target, new Deposit(1)).Within($"deposit {i}"));
        }
    }

    private static void AssertLogged(RecordingLoggerProvider logs, Address target, string supervision)
    {
        LogEntry entry = Assert.Single(logs.Entries, e => e.EventId.Id == 1);
        Assert.Equal(LogLevel.Error, entry.Level);
        Assert.IsType<InvalidOperationException>(entry.Exception);
        Assert.Contains(target.ToString(), entry.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(Boom), entry.Message, StringComparison.Ordinal);
        Assert.Contains(supervision, entry.Message, StringComparison.Ordinal);
    }

    private sealed record Deposit(int Amount) : IRequest<int>;

    private sealed record Withdraw(int Amount) : IRequest<int>;

    private sealed record GetBalance : IRequest<int>;

    private sealed record Boom : IRequest<int>;

    private sealed record BoomLater : IRequest<int>;

    private sealed class Counter
    {
        private int _value;
        private int _started;

        public int Value => Volatile.Read(ref _value);

        public int Started => Volatile.Read(ref _started);

        public void Increment() => Interlocked.Increment(ref _value);

        public void Start() => Interlocked.Increment(ref _started);
    }

    private sealed class Account : Target, ITarget<Account>
    {
        private readonly Counter _counter;
        private int _balance;

        public Account(Counter counter)
        {
            _counter = counter;
            counter.Increment();
        }

        public TaskCompletionSource<string> Ended { get; } = Waits.NewSignal<string>();

        public static void Wire(Channels<Account> channels) => channels
            .Request<Deposit, int>(static (self, m, ctx) => self._balance += m.Amount)
            .Request<GetBalance, int>(static (self, m, ctx) => self._balance)
            .Request<Withdraw, int>(static (self, m, ctx) => m.Amount <= self._balance
                ? self._balance -= m.Amount
                : throw new TetherException("insufficient-funds", $"balance {self._balance} is less than {m.Amount}"))
            .Request<Boom, int>(static (self, m, ctx) => throw new InvalidOperationException("the account is broken"))
            .RequestAsync<BoomLater, int>(static async (self, m, ctx) =>
            {
                await Task.Yield();
                throw new InvalidOperationException("broken after an await");
            });

        protected internal override void OnStarted(Context context) => _counter.Start();

        protected internal override void OnEnded(Context context, string reason) => Ended.TrySetResult(reason);
    }
}
