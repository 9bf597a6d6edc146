using System.Globalization;
using Akka.Actor;
using Akka.Configuration;
using Tether.Benchmarks.Harness;
using Tether.Testing;

namespace Tether.Benchmarks.Frameworks.Remote;

/// <summary>
/// Akka.Remote 1.5.74: two <c>ActorSystem</c>s with <c>provider = remote</c> on loopback ports (DotNetty TCP, the
/// default transport), otherwise defaults (logging off: a "Disassociated" error at every shutdown would land in the table). The message is a <c>byte[]</c> of 32 bytes, which Akka carries with its
/// built-in byte-array serializer (no JSON). <c>ReceiveActor</c>, <c>Tell</c> with the implicit sender, <c>Ask</c> from outside.
/// </summary>
internal sealed class AkkaRemoteBench : IRemoteBench
{
    private static readonly TimeSpan s_askTimeout = TimeSpan.FromSeconds(30);
    private ActorSystem? _client;
    private ActorSystem? _server;
    private int _serverPort;
    private int _spawned;

    private ActorSystem Client => _client ?? throw new InvalidOperationException("not started");

    private ActorSystem Server => _server ?? throw new InvalidOperationException("not started");

    private static Config ConfigFor(int port) => ConfigurationFactory.ParseString(string.Create(CultureInfo.InvariantCulture, $$"""
        akka.loglevel = OFF
        akka.stdout-loglevel = OFF
        akka.log-dead-letters-during-shutdown = off
        akka.remote.log-remote-lifecycle-events = off
        akka.log-dead-letters = off
        akka.actor.provider = remote
        akka.remote.dot-netty.tcp.hostname = 127.0.0.1
        akka.remote.dot-netty.tcp.port = {{port}}
        """));

    public async Task StartAsync()
    {
        _serverPort = NatsServer.FreePort();
        _server = ActorSystem.Create("server", ConfigFor(_serverPort));
        _client = ActorSystem.Create("client", ConfigFor(NatsServer.FreePort()));
        IActorRef echo = await SpawnEchoAsync();
        await echo.Ask<byte[]>(RemotePayload.Create(), s_askTimeout); // the association is up before anything is timed
    }

    private async Task<IActorRef> SpawnEchoAsync()
    {
        string name = $"echo-{Interlocked.Increment(ref _spawned)}";
        Server.ActorOf(Props.Create(() => new EchoActor()), name);
        return await Client.ActorSelection($"akka.tcp://server@127.0.0.1:{_serverPort}/user/{name}").ResolveOne(TimeSpan.FromSeconds(10));
    }

    public async Task<Func<Task>> PrepareBlastAsync(int messages, int window)
    {
        IActorRef echo = await SpawnEchoAsync();
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        IActorRef blaster = Client.ActorOf(Props.Create(() => new BlastActor(echo, messages, window, finished)));
        return () =>
        {
            blaster.Tell(Go.Instance);
            return finished.Task;
        };
    }

    public async Task<Func<Task<int>>> PrepareRequestAsync()
    {
        IActorRef echo = await SpawnEchoAsync();
        byte[] payload = RemotePayload.Create();
        return async () => (await echo.Ask<byte[]>(payload, s_askTimeout)).Length;
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.Terminate();
        }

        if (_server is not null)
        {
            await _server.Terminate();
        }
    }

    private sealed class Go
    {
        public static readonly Go Instance = new();
    }

    private sealed class EchoActor : ReceiveActor
    {
        public EchoActor() => Receive<byte[]>(m => Sender.Tell(m));
    }

    private sealed class BlastActor : ReceiveActor
    {
        private readonly byte[] _payload = RemotePayload.Create();
        private int _sent;
        private int _received;

        public BlastActor(IActorRef echo, int messages, int window, TaskCompletionSource finished)
        {
            Receive<Go>(_ =>
            {
                int first = Math.Min(window, messages);
                for (int i = 0; i < first; i++)
                {
                    echo.Tell(_payload);
                }

                _sent = first;
            });
            Receive<byte[]>(_ =>
            {
                if (++_received == messages)
                {
                    finished.TrySetResult();
                }
                else if (_sent < messages)
                {
                    _sent++;
                    echo.Tell(_payload);
                }
            });
        }
    }
}
