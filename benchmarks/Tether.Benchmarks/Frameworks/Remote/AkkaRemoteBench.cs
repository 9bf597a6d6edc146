using System.Globalization;
using Akka.Actor;
using Akka.Configuration;
using Tether.Benchmarks.Harness;
using Tether.Testing;

namespace Tether.Benchmarks.Frameworks.Remote;

/// <summary>
/// Akka.Remote 1.5.74: two (or more) <c>ActorSystem</c>s with <c>provider = remote</c> on loopback ports (DotNetty TCP, the
/// default transport), otherwise defaults (logging off: a "Disassociated" error at every shutdown would land in the table). The message is a <c>byte[]</c> of 32 bytes, which Akka carries with its
/// built-in byte-array serializer (no JSON). <c>ReceiveActor</c>, <c>Tell</c> with the implicit sender, <c>Ask</c> from outside.
/// </summary>
internal sealed class AkkaRemoteBench : IRemoteBench
{
    private static readonly TimeSpan s_askTimeout = TimeSpan.FromSeconds(30);
    private ActorSystem[] _systems = [];
    private int[] _ports = [];
    private int _spawned;

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

    // Two nodes keep their old names (client and server); more are node0, node1, ...
    private string NameOf(int node) => _systems.Length == 2 ? (node == 0 ? "client" : "server") : $"node{node}";

    public async Task StartAsync(int nodes)
    {
        _systems = new ActorSystem[nodes];
        _ports = new int[nodes];
        for (int i = 0; i < nodes; i++)
        {
            _ports[i] = NatsServer.FreePort();
        }

        for (int i = 0; i < nodes; i++)
        {
            _systems[i] = ActorSystem.Create(NameOf(i), ConfigFor(_ports[i]));
        }

        // The association from each node to the next is up before anything is timed.
        for (int i = 0; i < (nodes == 2 ? 1 : nodes); i++)
        {
            IActorRef echo = await SpawnEchoAsync(i, (i + 1) % nodes);
            await echo.Ask<byte[]>(RemotePayload.Create(), s_askTimeout);
        }
    }

    private async Task<IActorRef> SpawnEchoAsync(int from, int to)
    {
        string name = $"echo-{Interlocked.Increment(ref _spawned)}";
        _systems[to].ActorOf(Props.Create(() => new EchoActor()), name);
        return await _systems[from].ActorSelection($"akka.tcp://{NameOf(to)}@127.0.0.1:{_ports[to]}/user/{name}").ResolveOne(TimeSpan.FromSeconds(10));
    }

    public async Task<Func<Task>> PrepareBlastAsync(int messages, int window, int from, int to)
    {
        IActorRef echo = await SpawnEchoAsync(from, to);
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        IActorRef blaster = _systems[from].ActorOf(Props.Create(() => new BlastActor(echo, messages, window, finished)));
        return () =>
        {
            blaster.Tell(Go.Instance);
            return finished.Task;
        };
    }

    public async Task<Func<Task<int>>> PrepareRequestAsync()
    {
        IActorRef echo = await SpawnEchoAsync(0, 1);
        byte[] payload = RemotePayload.Create();
        return async () => (await echo.Ask<byte[]>(payload, s_askTimeout)).Length;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (ActorSystem? system in _systems)
        {
            if (system is not null)
            {
                await system.Terminate();
            }
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
