using Tether.Tests.TestSupport;

namespace Tether.Tests;

public sealed class AddressTests
{
    [Fact]
    public void Address_SameNodeAndId_AreEqualWithSameHashCode()
    {
        var a = new Address("alpha", 42);
        var b = new Address("alpha", 42);

        Assert.Equal(a, b);
        Assert.True(a == b);
        Assert.False(a != b);
        Assert.True(a.Equals((object)b));
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
    }

    [Theory]
    [InlineData("alpha", 42, "alpha", 43)]
    [InlineData("alpha", 42, "beta", 42)]
    [InlineData("alpha", 42, "Alpha", 42)]
    public void Address_DifferentNodeOrId_AreNotEqual(string node1, long id1, string node2, long id2)
    {
        var a = new Address(node1, id1);
        var b = new Address(node2, id2);

        Assert.NotEqual(a, b);
        Assert.True(a != b);
        Assert.False(a.Equals((object)b));
    }

    [Theory]
    [InlineData("alpha", 1, "alpha/1")]
    [InlineData("node-7f3a", 123456789012, "node-7f3a/123456789012")]
    [InlineData("a.b:c", 5, "a.b:c/5")]
    public void Address_ToStringThenParse_RoundTrips(string node, long id, string text)
    {
        var address = new Address(node, id);

        Assert.Equal(text, address.ToString());
        Address parsed = Address.Parse(text);
        Assert.Equal(address, parsed);
        Assert.Equal(node, parsed.Node);
        Assert.Equal(id, parsed.Id);
        Assert.True(Address.TryParse(text, out Address tried));
        Assert.Equal(address, tried);
    }

    [Theory]
    [InlineData("")]
    [InlineData("alpha")]
    [InlineData("alpha/")]
    [InlineData("/5")]
    [InlineData("alpha/0")]
    [InlineData("alpha/-3")]
    [InlineData("alpha/+3")]
    [InlineData("alpha/ 3")]
    [InlineData("alpha/x")]
    [InlineData("a/b/3")]
    [InlineData("alpha/99999999999999999999")]
    public void AddressParse_MalformedText_ThrowsFormatExceptionAndTryParseFails(string text)
    {
        Assert.False(Address.TryParse(text, out Address address));
        Assert.True(address.IsNone);
        Assert.Throws<FormatException>(() => Address.Parse(text));
    }

    [Fact]
    public void AddressTryParse_Null_Fails()
    {
        Assert.False(Address.TryParse(null, out Address address));
        Assert.True(address.IsNone);
    }

    [Theory]
    [InlineData("", 1)]
    [InlineData("a/b", 1)]
    [InlineData("alpha", 0)]
    [InlineData("alpha", -1)]
    public void AddressConstructor_InvalidParts_Throws(string node, long id)
        => Assert.ThrowsAny<ArgumentException>(() => new Address(node, id));

    [Fact]
    public void AddressNone_Default_IsNoneAndPrintsNone()
    {
        Assert.True(Address.None.IsNone);
        Assert.Equal(default, Address.None);
        Assert.Equal("(none)", Address.None.ToString());
        Assert.NotEqual(Address.None, new Address("alpha", 1));
    }

    [Fact]
    public async Task Address_OfSpawnedTarget_EqualsItsParsedTextForm()
    {
        await using Node node = Node.Create(new NodeOptions { Name = "addr-node" });
        Address live = node.Spawn(() => new Echo());

        Address parsed = Address.Parse(live.ToString());

        // The live address carries a hidden reference to the mailbox; equality and hashing ignore it.
        Assert.Equal("addr-node", live.Node);
        Assert.Equal(live, parsed);
        Assert.Equal(live.GetHashCode(), parsed.GetHashCode());
        var set = new HashSet<Address> { live };
        Assert.Contains(parsed, set);
    }

    [Fact]
    public async Task Address_SpawnedTargets_GetDistinctAddresses()
    {
        await using Node node = Node.Create();
        var addresses = new HashSet<Address>();
        for (int i = 0; i < 100; i++)
        {
            Assert.True(addresses.Add(node.Spawn(() => new Echo())));
        }

        Assert.All(addresses, a => Assert.Equal(node.Name, a.Node));
    }

    [Fact]
    public async Task Address_CarriedInMessage_ReceiverRepliesToIt()
    {
        await using Node node = Node.Create();
        var collector = new Collector();
        Address collectorAddress = node.Spawn(() => collector);
        Address echo = node.Spawn(() => new Echo());

        node.Send(echo, new Ping(collectorAddress, 1));
        node.Send(echo, new Ping(Address.Parse(collectorAddress.ToString()), 2)); // the text form, as from the wire

        await Eventually.Until(() => collector.Pongs.Count == 2, "both pongs reach the address carried in the pings");
        Assert.Equal([1, 2], collector.Pongs.Select(p => p.N).Order());
        Assert.All(collector.Senders, s => Assert.Equal(echo, s));
    }

    [Fact]
    public async Task Address_CarriedInRequest_ReceiverRequestsBackThroughIt()
    {
        await using Node node = Node.Create();
        Address echo = node.Spawn(() => new Echo());
        Address asker = node.Spawn(() => new Asker());

        int answer = await node.Request(asker, new AskVia(echo, 20)).Within("the asker relays its own address and gets an answer");

        Assert.Equal(21, answer);
    }

    private sealed record Ping(Address ReplyTo, int N);

    private sealed record Pong(int N);

    private sealed record Plus1(int N) : IRequest<int>;

    private sealed record AskVia(Address Echo, int N) : IRequest<int>;

    private sealed record CallMe(Address Back, int N) : IRequest<int>;

    private sealed class Echo : Target, ITarget<Echo>
    {
        public static void Wire(Channels<Echo> channels) => channels
            .On<Ping>(static (self, m, ctx) => ctx.Send(m.ReplyTo, new Pong(m.N)))
            .RequestAsync<CallMe, int>(static async (self, m, ctx) => await ctx.Request(m.Back, new Plus1(m.N)));
    }

    private sealed class Asker : Target, ITarget<Asker>
    {
        public static void Wire(Channels<Asker> channels) => channels
            .RequestAsync<AskVia, int>(static async (self, m, ctx) => await ctx.Request(m.Echo, new CallMe(ctx.Self, m.N)))
            .Request<Plus1, int>(static (self, m, ctx) => m.N + 1);
    }

    private sealed class Collector : Target, ITarget<Collector>
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<Pong> _pongs = new();
        private readonly System.Collections.Concurrent.ConcurrentQueue<Address> _senders = new();

        public IReadOnlyCollection<Pong> Pongs => _pongs;

        public IReadOnlyCollection<Address> Senders => _senders;

        public static void Wire(Channels<Collector> channels) => channels
            .On<Pong>(static (self, m, ctx) =>
            {
                self._senders.Enqueue(ctx.Sender);
                self._pongs.Enqueue(m);
            });
    }
}
