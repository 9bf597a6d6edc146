using MessagePack;
using NATS.Client.Core;
using Tether.Nats.Internal;

namespace Tether.Nats.Tests;

/// <summary>
/// The session token crosses nodes in the frame, as the trace context does: to an address (alone and in batches), to a
/// service (routed to a known instance, or taken from its queue group), and a token over the bound is refused. Carried on
/// from a handler to a third node: <see cref="MultiNodeContractTests"/> (run over NATS by <see cref="NatsContractTests"/>).
/// </summary>
public sealed class SessionWireTests
{
    // A hang guard only, never a timed claim: each wait ends as soon as its condition holds (generous: these tests share
    // 2 cores with other builds). Claims are asserted against their own bounds, named where they are checked.
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(15);

    public sealed record WhoAmI : IRequest<string>;

    public sealed record AskOn(Address Via) : IRequest<string>;

    /// <summary>Answers with the session token of the message it handles, and asks on with it.</summary>
    public sealed class SessionProbe : Target, ITarget<SessionProbe>
    {
        public static void Wire(Channels<SessionProbe> channels) => channels
            .Request<WhoAmI, string>(static (_, _, ctx) => ctx.SessionToken ?? "(none)")
            .RequestAsync<AskOn, string>(static async (_, m, ctx) => $"{ctx.SessionToken ?? "(none)"}|{await ctx.Request(m.Via, new WhoAmI())}");
    }

    private static ContractRegistry Contracts() => Cluster.Contracts().Register<WhoAmI>("test.whoami").Register<AskOn>("test.ask-on");

    [Fact]
    public async Task Request_WithSession_ArrivesWithTheTokenOnTheOtherNode()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, _) = await cluster.AddNodeAsync("alpha", contracts: Contracts());
        (Node b, _) = await cluster.AddNodeAsync("beta", contracts: Contracts());
        Address probe = new("beta", b.Spawn(() => new SessionProbe()).Id);

        Assert.Equal("tok", await a.Request(probe, new WhoAmI(), session: "tok").AsTask().WaitAsync(s_wait));
        Assert.Equal("(none)", await a.Request(probe, new WhoAmI()).AsTask().WaitAsync(s_wait));

        // Under load the frames travel in batches: each keeps its own token (or none) beside its neighbours'.
        Task<string>[] many = [.. Enumerable.Range(0, 200).Select(i => a.Request(probe, new WhoAmI(), session: i % 3 == 0 ? null : $"tok-{i % 7}").AsTask())];
        string[] answers = await Task.WhenAll(many).WaitAsync(s_wait);
        for (int i = 0; i < answers.Length; i++)
        {
            Assert.Equal(i % 3 == 0 ? "(none)" : $"tok-{i % 7}", answers[i]);
        }
    }

    [Fact]
    public async Task ServiceRequest_ToAKnownInstance_CarriesTheSession()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, BrokerProxy aProxy) = await cluster.AddNodeAsync("alpha", contracts: Contracts());
        (Node b, BrokerProxy bProxy) = await cluster.AddNodeAsync("beta", contracts: Contracts());
        b.RegisterService("who", b.Spawn(() => new SessionProbe()));
        await bProxy.WhenServingAsync().WaitAsync(s_wait);
        await Eventually.Until(() => aProxy.Latencies("who").Count == 1, "alpha learns beta's instance of \"who\"", s_wait);

        Assert.Equal("tok", await a.Request("who", new WhoAmI(), session: "tok").AsTask().WaitAsync(s_wait));
        Assert.Equal("(none)", await a.Request("who", new WhoAmI()).AsTask().WaitAsync(s_wait));
    }

    [Fact]
    public async Task ServiceRequest_ThroughTheQueueGroup_CarriesTheSession()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node b, BrokerProxy bProxy) = await cluster.AddNodeAsync("beta", contracts: Contracts());
        b.RegisterService("who", b.Spawn(() => new SessionProbe()));
        await bProxy.WhenServingAsync().WaitAsync(s_wait);

        // A requester that knows no instance: its frame goes to the service's queue group, as a node's first one does.
        MessagePackSerializerOptions options = MessagePackSerializerOptions.Standard
            .WithResolver(MessagePack.Resolvers.ContractlessStandardResolver.Instance);
        var frame = new Frame { Kind = FrameKind.Request, SenderNode = "outsider", SenderId = 1, Contract = "test.whoami", Session = "queued-tok" };
        byte[] bytes = frame.Encode(PayloadCodec.Create(typeof(WhoAmI), options, "test.whoami"), new WhoAmI());
        await using var raw = new NatsConnection(NatsOpts.Default with { Url = cluster.Server.Url });
        await raw.ConnectAsync();

        NatsMsg<byte[]> reply = await raw.RequestAsync<byte[], byte[]>("tether.default.svc.who", bytes, replyOpts: new NatsSubOpts { Timeout = s_wait });

        int payloadAt = Frame.DecodeHeader(reply.Data, out Frame answer);
        Assert.Equal(FrameKind.Response, answer.Kind);
        Assert.Equal("queued-tok", Frame.ReadPayload(reply.Data, payloadAt, PayloadCodec.Create(typeof(string), options, "tether.string")));
    }

    [Fact]
    public async Task Request_WithASessionOverTheBound_FailsAtTheSenderNamingIt()
    {
        await using Cluster cluster = await Cluster.StartAsync();
        (Node a, _) = await cluster.AddNodeAsync("alpha", contracts: Contracts());
        (Node b, _) = await cluster.AddNodeAsync("beta", contracts: Contracts());
        Address probe = new("beta", b.Spawn(() => new SessionProbe()).Id);

        TetherException error = await Assert.ThrowsAsync<TetherException>(
            () => a.Request(probe, new WhoAmI(), session: new string('x', Frame.MaxSessionBytes + 1)).AsTask().WaitAsync(s_wait));

        Assert.Equal(ErrorCodes.BadRequest, error.Code);
        Assert.Contains("session token", error.Message, StringComparison.Ordinal);
        Assert.Equal("tok", await a.Request(probe, new WhoAmI(), session: "tok").AsTask().WaitAsync(s_wait)); // the node goes on
    }
}
