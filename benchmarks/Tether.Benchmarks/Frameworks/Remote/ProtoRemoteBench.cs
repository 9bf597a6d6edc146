using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Proto;
using Proto.Remote;
using Proto.Remote.GrpcNet;
using Tether.Benchmarks.Harness;
using Tether.Testing;

namespace Tether.Benchmarks.Frameworks.Remote;

/// <summary>
/// Proto.Remote 1.8.0 in its recommended configuration: two (or more) <c>ActorSystem</c>s with <c>WithRemote(RemoteConfig
/// .BindToLocalhost(port))</c> (gRPC over HTTP/2, loopback) and protobuf messages (<c>BytesValue</c>, a well-known type, so
/// no code generation). Actors as in Proto.Actor's own RemoteBenchmark: <c>context.Request</c> to the remote echo,
/// which <c>Respond</c>s; <c>Root.RequestAsync</c> from outside.
/// </summary>
internal sealed class ProtoRemoteBench : IRemoteBench
{
    private ActorSystem[] _systems = [];
    private string[] _addresses = [];
    private int _spawned;

    public async Task StartAsync(int nodes)
    {
        _systems = new ActorSystem[nodes];
        _addresses = new string[nodes];
        for (int i = 0; i < nodes; i++)
        {
            int port = NatsServer.FreePort();
            _systems[i] = new ActorSystem().WithRemote(RemoteConfig.BindToLocalhost(port).WithProtoMessages(WrappersReflection.Descriptor));
            _addresses[i] = $"127.0.0.1:{port}";
            await _systems[i].Remote().StartAsync();
        }

        // One round trip from each node to the next so the connections are up before anything is timed.
        for (int i = 0; i < (nodes == 2 ? 1 : nodes); i++)
        {
            PID echo = SpawnEcho((i + 1) % nodes);
            await _systems[i].Root.RequestAsync<BytesValue>(echo, new BytesValue { Value = ByteString.CopyFrom(RemotePayload.Create()) }, TimeSpan.FromSeconds(30));
        }
    }

    private PID SpawnEcho(int node)
    {
        string name = $"echo-{Interlocked.Increment(ref _spawned)}";
        _systems[node].Root.SpawnNamed(Props.FromProducer(static () => new EchoActor()), name);
        return PID.FromAddress(_addresses[node], name);
    }

    public Task<Func<Task>> PrepareBlastAsync(int messages, int window, int from, int to)
    {
        PID echo = SpawnEcho(to);
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        IRootContext root = _systems[from].Root;
        PID blaster = root.Spawn(Props.FromProducer(() => new BlastActor(echo, messages, window, finished)));
        return Task.FromResult<Func<Task>>(() =>
        {
            root.Send(blaster, new Go());
            return finished.Task;
        });
    }

    public Task<Func<Task<int>>> PrepareRequestAsync()
    {
        PID echo = SpawnEcho(1);
        var payload = new BytesValue { Value = ByteString.CopyFrom(RemotePayload.Create()) };
        IRootContext root = _systems[0].Root;
        return Task.FromResult<Func<Task<int>>>(async () => (await root.RequestAsync<BytesValue>(echo, payload)).Value.Length);
    }

    public async ValueTask DisposeAsync()
    {
        ActorSystem[] systems = _systems.OfType<ActorSystem>().ToArray();
        await Task.WhenAll(systems.Select(s => s.ShutdownAsync("benchmark done")));

        // Then the gRPC endpoints. Remote().ShutdownAsync waits about 30 s per system here (for its endpoints to drain);
        // nothing is sent any more, so give it a few seconds and go on (its idle wait costs no CPU).
        Task remotes = Task.WhenAll(systems.Select(s => s.Remote().ShutdownAsync(graceful: false)));
        try
        {
            await remotes.WaitAsync(TimeSpan.FromSeconds(3));
        }
        catch (TimeoutException)
        {
        }
    }

    private sealed record Go;

    private sealed class EchoActor : IActor
    {
        public Task ReceiveAsync(IContext context)
        {
            if (context.Message is BytesValue)
            {
                context.Respond(context.Message);
            }

            return Task.CompletedTask;
        }
    }

    private sealed class BlastActor(PID echo, int messages, int window, TaskCompletionSource finished) : IActor
    {
        private readonly BytesValue _payload = new() { Value = ByteString.CopyFrom(RemotePayload.Create()) };
        private int _sent;
        private int _received;

        public Task ReceiveAsync(IContext context)
        {
            switch (context.Message)
            {
                case Go:
                    int first = Math.Min(window, messages);
                    for (int i = 0; i < first; i++)
                    {
                        context.Request(echo, _payload);
                    }

                    _sent = first;
                    break;
                case BytesValue:
                    if (++_received == messages)
                    {
                        finished.TrySetResult();
                    }
                    else if (_sent < messages)
                    {
                        _sent++;
                        context.Request(echo, _payload);
                    }

                    break;
            }

            return Task.CompletedTask;
        }
    }
}
