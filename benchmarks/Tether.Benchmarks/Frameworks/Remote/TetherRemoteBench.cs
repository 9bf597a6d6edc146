using Tether.Benchmarks.Harness;
using Tether.Nats;
using Tether.Testing;

namespace Tether.Benchmarks.Frameworks.Remote;

/// <summary>
/// Tether over NATS: two nodes in this process ("client" and "server"), each with its own <see cref="BrokerProxy"/> and so
/// its own NATS connection, through a real nats-server started on a free loopback port. Targets as a user writes them:
/// static-lambda channels, <c>ctx.Send(ctx.Sender, ...)</c> for the echo, <c>node.Request</c> from outside; default options.
/// </summary>
internal sealed class TetherRemoteBench : IRemoteBench
{
    private static readonly ContractRegistry s_contracts = new ContractRegistry()
        .Register<Bytes32>("bench.bytes")
        .Register<Ask32>("bench.ask");

    private readonly Node _client = Node.Create(new NodeOptions { Name = "client" });
    private readonly Node _server = Node.Create(new NodeOptions { Name = "server" });
    private NatsServer? _nats;
    private BrokerProxy? _clientProxy;
    private BrokerProxy? _serverProxy;

    public async Task StartAsync()
    {
        _nats = await NatsServer.StartAsync();
        var options = new BrokerOptions { Url = _nats.Url, Contracts = s_contracts };
        _serverProxy = await BrokerProxy.AttachAsync(_server, options);
        _clientProxy = await BrokerProxy.AttachAsync(_client, options);
        long start = Environment.TickCount64;
        while (_clientProxy.Peers.Count == 0 || _serverProxy.Peers.Count == 0)
        {
            if (Environment.TickCount64 - start > 10_000)
            {
                throw new InvalidOperationException("The two Tether nodes did not hear each other's heartbeats within 10 s.");
            }

            await Task.Delay(10);
        }
    }

    public Task<Func<Task>> PrepareBlastAsync(int messages, int window)
    {
        Address echo = _server.Spawn(static () => new EchoTarget());
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Address blaster = _client.Spawn(() => new Blaster(new Address(_server.Name, echo.Id), messages, window, finished));
        return Task.FromResult<Func<Task>>(() =>
        {
            _client.Send(blaster, Go.Instance);
            return finished.Task;
        });
    }

    public Task<Func<Task<int>>> PrepareRequestAsync()
    {
        Address responder = _server.Spawn(static () => new Responder());
        var remote = new Address(_server.Name, responder.Id);
        var ask = new Ask32(RemotePayload.Create());
        return Task.FromResult<Func<Task<int>>>(async () => (await _client.Request(remote, ask)).Data.Length);
    }

    public async ValueTask DisposeAsync()
    {
        // A cheap profile of the batching: frames per NATS message each way (to stderr, with the iterations' lines).
        foreach ((string side, BrokerProxy? proxy) in new[] { ("client", _clientProxy), ("server", _serverProxy) })
        {
            if (proxy is not null && proxy.MessagesPublished > 0)
            {
                Console.Error.WriteLine($"  tether {side}: {proxy.Statistics.FramesSent:N0} frames in {proxy.MessagesPublished:N0} NATS messages ({(double)proxy.Statistics.FramesSent / proxy.MessagesPublished:0.0} per message)");
            }
        }

        if (_clientProxy is not null)
        {
            await _clientProxy.DisposeAsync();
        }

        if (_serverProxy is not null)
        {
            await _serverProxy.DisposeAsync();
        }

        await _client.DisposeAsync();
        await _server.DisposeAsync();
        _nats?.Dispose();
    }

    private sealed record Go
    {
        public static readonly Go Instance = new();
    }

    private sealed class EchoTarget : Target, ITarget<EchoTarget>
    {
        public static void Wire(Channels<EchoTarget> channels)
            => channels.On<Bytes32>(static (_, m, ctx) => ctx.Send(ctx.Sender, m));
    }

    private sealed class Responder : Target, ITarget<Responder>
    {
        public static void Wire(Channels<Responder> channels)
            => channels.Request<Ask32, Bytes32>(static (_, m, _) => new Bytes32(m.Data));
    }

    /// <summary>Sends <c>messages</c> to the echo, keeping at most <c>window</c> unanswered; one more for every echo.</summary>
    private sealed class Blaster(Address echo, int messages, int window, TaskCompletionSource finished) : Target, ITarget<Blaster>
    {
        private readonly Bytes32 _payload = new(RemotePayload.Create());
        private int _sent;
        private int _received;

        public static void Wire(Channels<Blaster> channels) => channels
            .On<Go>(static (self, _, ctx) => self.Start(ctx))
            .On<Bytes32>(static (self, _, ctx) => self.Echoed(ctx));

        private void Start(Context ctx)
        {
            int first = Math.Min(window, messages);
            for (int i = 0; i < first; i++)
            {
                ctx.Send(echo, _payload);
            }

            _sent = first;
        }

        private void Echoed(Context ctx)
        {
            if (++_received == messages)
            {
                finished.TrySetResult();
                return;
            }

            if (_sent < messages)
            {
                _sent++;
                ctx.Send(echo, _payload);
            }
        }
    }
}

/// <summary>The 32-byte message of the blast and of answers (public: MessagePack's contractless resolver needs it).</summary>
public sealed record Bytes32(byte[] Data);

/// <summary>The 32-byte request; the answer is the same bytes.</summary>
public sealed record Ask32(byte[] Data) : IRequest<Bytes32>;
