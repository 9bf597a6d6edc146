namespace Tether.Adapters.Tests;

/// <summary>The core's adapter hook (<see cref="IMessageAdapters"/>, <see cref="MessagePipe"/>) with hand-written pipes, no YAML.</summary>
public sealed class HookTests
{
    private sealed class Pipe(Func<object, object> apply) : MessagePipe
    {
        public override object Apply(object message) => apply(message);
    }

    private sealed class Adapters(Func<Type, MessagePipe?>? inbound = null, Func<Type, MessagePipe?>? outbound = null) : IMessageAdapters
    {
        public MessagePipe? Inbound(Type targetType, Type messageType, IReadOnlyList<Type> inputChannels) => inbound?.Invoke(messageType);

        public MessagePipe? Outbound(Type targetType, Type messageType) => outbound?.Invoke(messageType);
    }

    private sealed record Unhandled(int N) : IRequest<string>;

    [Fact]
    public async Task FaultyPipe_RequesterGetsHandlerFailed_AndTheTargetKeepsServing()
    {
        await using Node node = Node.Create(new NodeOptions
        {
            Adapters = new Adapters(inbound: t => t == typeof(Order) ? new Pipe(m => ((Order)m).Quantity < 0 ? throw new InvalidOperationException("bug") : m) : null),
        });
        Address desk = node.Spawn(() => new OrderDesk());

        TetherException error = await node.Request(desk, new Order(Quantity: -1)).FailsWithin("the faulty pipe's request");

        Assert.Equal(ErrorCodes.HandlerFailed, error.Code);
        Assert.Contains("bug", error.Message, StringComparison.Ordinal);
        Assert.Equal("ok 2", await node.Request(desk, new Order(Quantity: 2)).Within("the next request"));
    }

    [Fact]
    public async Task InboundPipe_MapsAnUnhandledTypeOntoAHandledOne_DispatchesOnTheResult()
    {
        await using Node node = Node.Create(new NodeOptions
        {
            Adapters = new Adapters(inbound: t => t == typeof(Unhandled) ? new Pipe(m => new Order(Quantity: ((Unhandled)m).N)) : null),
        });
        Address desk = node.Spawn(() => new OrderDesk());

        Assert.Equal("ok 9", await node.Request(desk, new Unhandled(9)).Within("the mapped request"));
    }

    [Fact]
    public async Task InboundPipe_ResultWithNoHandler_FailsNoHandler()
    {
        await using Node node = Node.Create(new NodeOptions
        {
            Adapters = new Adapters(inbound: t => t == typeof(Order) ? new Pipe(m => new Unhandled(1)) : null),
        });
        Address desk = node.Spawn(() => new OrderDesk());

        TetherException error = await node.Request(desk, new Order()).FailsWithin("a request mapped onto nothing");

        Assert.Equal(ErrorCodes.NoHandler, error.Code);
    }

    [Fact]
    public async Task OutboundPipe_ThatTurnsARequestIntoANonRequest_FailsTheRequestAtTheCaller()
    {
        await using Node node = Node.Create(new NodeOptions
        {
            Adapters = new Adapters(outbound: t => t == typeof(Ask) ? new Pipe(m => new Note(1)) : null),
        });
        Address desk = node.Spawn(() => new OrderDesk());
        Address asker = node.Spawn(() => new Asker(desk));

        TetherException error = await node.Request(asker, new Order(Quantity: 1)).FailsWithin("the asker's request");

        Assert.Equal(ErrorCodes.BadRequest, error.Code);
        Assert.Contains("not a request for Answer", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InboundPipeBuildFailure_FailsTheSpawnOfThatTargetType()
    {
        await using Node node = Node.Create(new NodeOptions
        {
            Adapters = new Adapters(inbound: t => t == typeof(Order) ? throw new InvalidOperationException("cannot build") : null),
        });

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => node.Spawn(() => new OrderDesk()));

        Assert.Equal("cannot build", error.Message);
    }

    /// <summary>Adapters that say whether they have postconditions; asked for one anyway, they break every message.</summary>
    private sealed class Declared(bool hasOutbound) : IMessageAdapters
    {
        private int _outboundAsked;

        public int OutboundAsked => Volatile.Read(ref _outboundAsked);

        public bool HasOutbound => hasOutbound;

        public MessagePipe? Inbound(Type targetType, Type messageType, IReadOnlyList<Type> inputChannels) => null;

        public MessagePipe? Outbound(Type targetType, Type messageType)
        {
            Interlocked.Increment(ref _outboundAsked);
            return new Pipe(_ => throw new TetherException(ErrorCodes.ContractViolation, "an outbound pipe ran"));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task HasOutbound_False_SendsSkipTheOutboundLookup_True_AsksForThePipe(bool hasOutbound)
    {
        var adapters = new Declared(hasOutbound);
        await using Node node = Node.Create(new NodeOptions { Adapters = adapters });
        var desk = new OrderDesk();
        Address deskAddress = node.Spawn(() => desk);
        Address oracle = node.Spawn(() => new Oracle(deskAddress));

        if (hasOutbound)
        {
            TetherException error = await node.Request(oracle, new Forward(5)).FailsWithin("the send the outbound pipe breaks");
            Assert.Equal(ErrorCodes.ContractViolation, error.Code);
            Assert.True(adapters.OutboundAsked > 0);
            Assert.Equal(0, desk.Handled);
            return;
        }

        Assert.Equal("sent", await node.Request(oracle, new Forward(5)).Within("a send without postconditions"));
        Assert.Equal(5, (await desk.Noted.Task.Within("the note arrives")).N);
        Assert.Equal(0, adapters.OutboundAsked);
    }

    /// <summary>Asks the desk with an <see cref="Ask"/> (which the outbound pipe above breaks) when it gets an order.</summary>
    private sealed class Asker(Address desk) : Target, ITarget<Asker>
    {
        private readonly Address _desk = desk;

        public static void Wire(Channels<Asker> channels) => channels
            .RequestAsync<Order, string>(static async (self, m, ctx) => (await ctx.Request(self._desk, new Ask(m.Quantity))).Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
