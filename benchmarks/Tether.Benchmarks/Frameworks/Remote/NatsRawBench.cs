using NATS.Client.Core;
using Tether.Benchmarks.Harness;
using Tether.Testing;

namespace Tether.Benchmarks.Frameworks.Remote;

/// <summary>
/// NATS.Net 3.3.2 alone, no runtime: the ceiling. Two (or more) connections to a real nats-server on a free
/// loopback port. Blast: the client publishes 32-byte messages (at most <c>window</c> unanswered), a server subscription
/// publishes each back on another subject, a client subscription counts them. Requests: <c>RequestAsync</c> to a server
/// subscription that answers with <c>ReplyAsync</c>.
/// </summary>
internal sealed class NatsRawBench : IRemoteBench
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private readonly List<INatsSub<byte[]>> _subs = []; // NATS.Net holds subscriptions weakly: keep them
    private NatsServer? _nats;
    private NatsConnection[] _connections = [];
    private int _blasts;

    public async Task StartAsync(int nodes)
    {
        _nats = await NatsServer.StartAsync();
        _connections = new NatsConnection[nodes];
        for (int i = 0; i < nodes; i++)
        {
            _connections[i] = new NatsConnection(NatsOpts.Default with { Url = _nats.Url, Name = $"raw-{i}", SubPendingChannelCapacity = 65_536 });
            await _connections[i].ConnectAsync();
        }
    }

    public async Task<Func<Task>> PrepareBlastAsync(int messages, int window, int from, int to)
    {
        NatsConnection client = _connections[from];
        NatsConnection server = _connections[to];
        int n = Interlocked.Increment(ref _blasts);
        string there = $"raw.echo.{n}";
        string back = $"raw.back.{n}";
        INatsSub<byte[]> echo = await server.SubscribeCoreAsync<byte[]>(there, cancellationToken: _stop.Token);
        INatsSub<byte[]> echoed = await client.SubscribeCoreAsync<byte[]>(back, cancellationToken: _stop.Token);
        _subs.Add(echo);
        _subs.Add(echoed);
        _loops.Add(Task.Run(async () =>
        {
            await foreach (NatsMsg<byte[]> msg in echo.Msgs.ReadAllAsync(_stop.Token))
            {
                await server.PublishAsync(back, msg.Data, cancellationToken: _stop.Token);
            }
        }));
        await server.PingAsync();
        await client.PingAsync();

        var credits = new SemaphoreSlim(window, window);
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _loops.Add(Task.Run(async () =>
        {
            int received = 0;
            await foreach (NatsMsg<byte[]> _ in echoed.Msgs.ReadAllAsync(_stop.Token))
            {
                credits.Release();
                if (++received == messages)
                {
                    finished.TrySetResult();
                }
            }
        }));

        byte[] payload = RemotePayload.Create();
        return async () =>
        {
            for (int i = 0; i < messages; i++)
            {
                await credits.WaitAsync();
                await client.PublishAsync(there, payload);
            }

            await finished.Task;
        };
    }

    public async Task<Func<Task<int>>> PrepareRequestAsync()
    {
        NatsConnection client = _connections[0];
        NatsConnection server = _connections[1];
        INatsSub<byte[]> requests = await server.SubscribeCoreAsync<byte[]>("raw.request", cancellationToken: _stop.Token);
        _subs.Add(requests);
        _loops.Add(Task.Run(async () =>
        {
            await foreach (NatsMsg<byte[]> msg in requests.Msgs.ReadAllAsync(_stop.Token))
            {
                await msg.ReplyAsync(msg.Data, cancellationToken: _stop.Token);
            }
        }));
        await server.PingAsync();
        byte[] payload = RemotePayload.Create();
        return async () => (await client.RequestAsync<byte[], byte[]>("raw.request", payload)).Data?.Length ?? 0;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (INatsSub<byte[]> sub in _subs)
        {
            await sub.DisposeAsync();
        }

        foreach (NatsConnection connection in _connections)
        {
            await connection.DisposeAsync();
        }

        await Task.WhenAll(_loops.Select(l => l.ContinueWith(static _ => { }, TaskScheduler.Default)));
        _nats?.Dispose();
        _stop.Dispose();
    }
}
