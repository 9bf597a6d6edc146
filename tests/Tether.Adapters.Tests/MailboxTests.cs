using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Tether.Adapters.Tests;

/// <summary>Answers <see cref="Order"/> requests and counts how often its handlers ran.</summary>
internal sealed class OrderDesk : Target, ITarget<OrderDesk>
{
    private int _handled;

    public int Handled => Volatile.Read(ref _handled);

    public TaskCompletionSource<Note> Noted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<PlaceOrderV2> Upgraded { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static void Wire(Channels<OrderDesk> channels) => channels
        .Request<Order, string>(static (self, m, ctx) =>
        {
            Interlocked.Increment(ref self._handled);
            return $"ok {m.Quantity}";
        })
        .Request<PlaceOrderV2, string>(static (self, m, ctx) =>
        {
            Interlocked.Increment(ref self._handled);
            self.Upgraded.TrySetResult(m);
            return $"v2 {m.CustomerId} {m.Quantity}";
        })
        .On<Note>(static (self, m, ctx) =>
        {
            Interlocked.Increment(ref self._handled);
            self.Noted.TrySetResult(m);
        });
}

/// <summary>Answers <see cref="Ask"/> with whatever N says, in four styles, and forwards <see cref="Note"/>s as told.</summary>
internal sealed class Oracle(Address desk) : Target, ITarget<Oracle>
{
    private readonly Address _desk = desk;

    public static void Wire(Channels<Oracle> channels) => channels
        .Request<Ask, Answer>(static (self, m, ctx) => new Answer(m.N))
        .RequestAsync<AskAsync, Answer>(static async (self, m, ctx) =>
        {
            await Task.Yield();
            return new Answer(m.N);
        })
        .Deferred<AskLater, Answer>(static (self, m, reply, ctx) => reply.Reply(new Answer(m.N)))
        .Request<Forward, string>(static (self, m, ctx) =>
        {
            ctx.Send(self._desk, new Note(m.N));
            return "sent";
        })
        .Request<Shout, string>(static (self, m, ctx) =>
        {
            ctx.Publish("notes", new Note(m.N));
            return "published";
        });
}

internal sealed record AskAsync(int N) : IRequest<Answer>;

internal sealed record AskLater(int N) : IRequest<Answer>;

internal sealed record Forward(int N) : IRequest<string>;

internal sealed record Shout(int N) : IRequest<string>;

public sealed class MailboxTests
{
    private const string OrderRules = """
        message: Shop.Order
        sensitive: [cardNumber]
        rules:
          - field: quantity
            range: { min: 1, max: 100 }
          - field: cardNumber
            length: { max: 16 }
        ---
        message: Test.Note
        rules:
          - field: n
            range: { min: 0 }
        """;

    private static Node NodeWith(MessageAdapters adapters, ILoggerFactory? logs = null)
        => Node.Create(new NodeOptions { Adapters = adapters, LoggerFactory = logs ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance });

    [Fact]
    public async Task Request_BreakingAPrecondition_FailsAtTheCallerAndTheHandlerNeverRuns()
    {
        await using Node node = NodeWith(Support.FromYaml(OrderRules));
        var desk = new OrderDesk();
        Address address = node.Spawn(() => desk);

        TetherException error = await node.Request(address, new Order(Quantity: 0)).FailsWithin("the invalid order is refused");

        var violation = Assert.IsType<ContractViolationException>(error);
        Assert.Equal(ErrorCodes.ContractViolation, violation.Code);
        Assert.Equal("Shop.Order", violation.MessageType);
        Assert.Equal("quantity", violation.Path);
        Assert.Equal("range 1..100", violation.Rule);
        Assert.Equal("0", violation.Value);
        Assert.Equal("ok 5", await node.Request(address, new Order(Quantity: 5)).Within("a valid order is answered"));
        Assert.Equal(1, desk.Handled); // only the valid one reached the handler
        Assert.Equal(1, node.Statistics.ContractViolations);
    }

    [Fact]
    public async Task Request_SensitiveField_ValueMaskedAtTheCaller()
    {
        await using Node node = NodeWith(Support.FromYaml(OrderRules));
        Address address = node.Spawn(() => new OrderDesk());

        TetherException error = await node.Request(address, new Order(CardNumber: "4111111111111111999")).FailsWithin("the long card number is refused");

        Assert.DoesNotContain("4111", error.Message, StringComparison.Ordinal);
        Assert.Contains("cardNumber", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_BreakingAPrecondition_IsDroppedCountedAndLoggedOncePerRule()
    {
        var logs = new ListLoggerProvider();
        using ILoggerFactory factory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Warning));
        await using Node node = NodeWith(Support.FromYaml(OrderRules), factory);
        var desk = new OrderDesk();
        Address address = node.Spawn(() => desk);

        for (int i = 0; i < 5; i++)
        {
            node.Send(address, new Note(-1 - i));
        }

        node.Send(address, new Note(7)); // the mailbox is FIFO: once this one is handled, the five before it were judged
        Assert.Equal(7, (await desk.Noted.Task.Within("the valid note is handled")).N);

        Assert.Equal(1, desk.Handled);
        Assert.Equal(5, node.Statistics.ContractViolations);
        string logged = Assert.Single(logs.Messages, m => m.Contains("Test.Note.n", StringComparison.Ordinal));
        Assert.Contains("range 0..", logged, StringComparison.Ordinal);
        Assert.Contains("-1", logged, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_V1ArrivesAtATargetThatHandlesV2_IsMappedAndDispatchedOnTheResult()
    {
        MessageAdapters adapters = Support.FromYaml("""
            message: Shop.PlaceOrder.v2
            mapFrom:
              - message: Shop.PlaceOrder.v1
                fields:
                  customerId: customer_id
                  quantity: qty
                  placedAt: { from: placed, format: yyyy-MM-dd }
                  currency: { default: EUR }
            """);
        await using Node node = NodeWith(adapters);
        var desk = new OrderDesk();
        Address address = node.Spawn(() => desk);

        string answer = await node.Request(address, new PlaceOrderV1("C-3", "4", "2025-01-02", null)).Within("the v1 order is answered by the v2 handler");

        Assert.Equal("v2 C-3 4", answer);
        Assert.Equal(new PlaceOrderV2("C-3", 4, new DateTime(2025, 1, 2), "EUR"), await desk.Upgraded.Task.Within("the handler saw v2"));
        TetherException error = await node.Request(address, new PlaceOrderV1("C-3", "four", "2025-01-02", null)).FailsWithin("a bad v1 is refused");
        Assert.Equal(ErrorCodes.ContractViolation, error.Code);
    }

    private static (Node Node, Address Oracle, OrderDesk Desk) OracleNode(string yaml)
    {
        Node node = NodeWith(Support.FromYaml(yaml));
        var desk = new OrderDesk();
        Address deskAddress = node.Spawn(() => desk);
        Address oracle = node.Spawn(() => new Oracle(deskAddress));
        return (node, oracle, desk);
    }

    private const string AnswerPostcondition = """
        message: Test.Answer
        enforce: output
        rules:
          - field: value
            range: { min: 0 }
            hint: answers are never negative
        """;

    [Theory]
    [InlineData("sync")]
    [InlineData("async")]
    [InlineData("deferred")]
    public async Task Response_BreakingAPostcondition_ReachesTheRequesterAsTheViolation(string style)
    {
        (Node node, Address oracle, OrderDesk _) = OracleNode(AnswerPostcondition);
        await using Node owned = node;
        ValueTask<Answer> Ask(int n) => style switch
        {
            "sync" => node.Request(oracle, new Ask(n)),
            "async" => node.Request(oracle, new AskAsync(n)),
            _ => node.Request(oracle, new AskLater(n)),
        };

        Assert.Equal(new Answer(3), await Ask(3).Within("a valid answer"));
        TetherException error = await Ask(-3).FailsWithin("an answer that breaks the postcondition");

        var violation = Assert.IsType<ContractViolationException>(error);
        Assert.Equal("Test.Answer", violation.MessageType);
        Assert.Equal("value", violation.Path);
        Assert.Contains("answers are never negative", violation.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("input", false)]
    [InlineData("output", true)]
    [InlineData("both", true)]
    public void HasOutbound_IsTrueOnlyWhenAContractIsEnforcedOnOutput(string enforce, bool expected)
    {
        Assert.False(Support.FromYaml("message: Test.Note\nrules:\n  - field: n\n    range: { max: 10 }\n").HasOutbound);
        Assert.Equal(expected, Support.FromYaml($"message: Test.Note\nenforce: {enforce}\nrules:\n  - field: n\n    range: {{ max: 10 }}\n").HasOutbound);
    }

    [Fact]
    public async Task Send_FromAHandler_BreakingAPostcondition_ThrowsToTheSenderAndNothingIsSent()
    {
        (Node node, Address oracle, OrderDesk desk) = OracleNode("message: Test.Note\nenforce: output\nrules:\n  - field: n\n    range: { max: 10 }\n");
        await using Node owned = node;

        TetherException error = await node.Request(oracle, new Forward(11)).FailsWithin("the handler's send is refused");
        Assert.Equal(ErrorCodes.ContractViolation, error.Code);
        Assert.Equal("sent", await node.Request(oracle, new Forward(10)).Within("a valid send"));

        Assert.Equal(10, (await desk.Noted.Task.Within("the valid note arrives")).N);
        Assert.Equal(1, desk.Handled);
        Assert.Equal(0, node.Statistics.ContractViolations); // outbound violations are the sender's error, not a mailbox drop
    }

    [Fact]
    public async Task Publish_FromAHandler_BreakingAPostcondition_ThrowsToThePublisher()
    {
        (Node node, Address oracle, OrderDesk _) = OracleNode("message: Test.Note\nenforce: output\nrules:\n  - field: n\n    range: { max: 10 }\n");
        await using Node owned = node;

        TetherException error = await node.Request(oracle, new Shout(11)).FailsWithin("the handler's publish is refused");

        Assert.Equal(ErrorCodes.ContractViolation, error.Code);
        Assert.Equal("published", await node.Request(oracle, new Shout(1)).Within("a valid publish"));
    }

    [Fact]
    public async Task Pipes_AreBuiltOncePerTargetTypeAndMessageType()
    {
        var counting = new CountingAdapters(Support.FromYaml(OrderRules));
        await using Node node = Node.Create(new NodeOptions { Adapters = counting });
        Address first = node.Spawn(() => new OrderDesk());
        Address second = node.Spawn(() => new OrderDesk());

        for (int i = 1; i <= 20; i++)
        {
            Assert.Equal($"ok {i}", await node.Request(i % 2 == 0 ? first : second, new Order(Quantity: i)).Within("an order"));
        }

        Assert.Equal(1, counting.InboundCalls[(typeof(OrderDesk), typeof(Order))]);
    }

    [Fact]
    public async Task NoAdapters_MessagesPassUntouched()
    {
        await using Node node = Node.Create();
        Address address = node.Spawn(() => new OrderDesk());

        Assert.Equal("ok 0", await node.Request(address, new Order(Quantity: 0)).Within("no contract, no check"));
        Assert.Equal(0, node.Statistics.ContractViolations);
    }

    private sealed class CountingAdapters(IMessageAdapters inner) : IMessageAdapters
    {
        public ConcurrentDictionary<(Type, Type), int> InboundCalls { get; } = new();

        public MessagePipe? Inbound(Type targetType, Type messageType, IReadOnlyList<Type> inputChannels)
        {
            InboundCalls.AddOrUpdate((targetType, messageType), 1, (_, n) => n + 1);
            return inner.Inbound(targetType, messageType, inputChannels);
        }

        public MessagePipe? Outbound(Type targetType, Type messageType) => inner.Outbound(targetType, messageType);
    }

    private sealed class ListLoggerProvider : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _messages = new();

        public IReadOnlyList<string> Messages => [.. _messages];

        public ILogger CreateLogger(string categoryName) => new ListLogger(_messages);

        public void Dispose()
        {
        }

        private sealed class ListLogger(ConcurrentQueue<string> messages) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull
                => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
                => messages.Enqueue(formatter(state, exception));
        }
    }
}
