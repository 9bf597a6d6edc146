using NATS.Client.Core;
using Tether.Benchmarks.Harness;
using Tether.Testing;

namespace Tether.Benchmarks.Frameworks.Remote;

/// <summary>
/// NATS.Net 3.3.2 alone, no runtime: the ceiling. Two connections ("client" and "server") to a real nats-server on a free
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
    private NatsConnection? _client;
    private NatsConnection? _server;
    private int _blasts;

    private NatsConnection Client => _client ?? throw new InvalidOperationException("not started");

    private NatsConnection Server => _server ?? throw new InvalidOperationException("not started");

    public async Task StartAsync()
    {
        _nats = await NatsServer.StartAsync();
        _client = new NatsConnection(NatsOpts.Default with { Url = _nats.Url, Name = "raw-client", SubPendingChannelCapacity = 65_536 });
        _server = new NatsConnection(NatsOpts.Default with { Url = _nats.Url, Name = "raw-server", SubPendingChannelCapacity = 65_536 });
        await _client.ConnectAsync();
        await _server.ConnectAsync();
    }

    public async Task<Func<Task>> PrepareBlastAsync(int messages, int window)
    {
        int n = Interlocked.Increment(ref _blasts);
        string there = $"raw.echo.{n}";
        string back = $"raw.back.{n}";
        INatsSub<byte[]> echo = await Server.SubscribeCoreAsync<byte[]>(there, cancellationToken: _stop.Token);
        INatsSub<byte[]> echoed = await Client.SubscribeCoreAsync<byte[]>(back, cancellationToken: _stop.Token);
        _subs.Add(echo);
        _subs.Add(echoed);
        _loops.Add(Task.Run(async () =>
        {
            await foreach (NatsMsg<byte[]> msg in echo.Msgs.ReadAllAsync(_stop.Token))
            {
                await Server.PublishAsync(back, msg.Data, cancellationToken: _stop.Token);
            }
        }));
        await Server.PingAsync();
        await Client.PingAsync();

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
                await Client.PublishAsync(there, payload);
            }

            await finished.Task;
        };
    }

    public async Task<Func<Task<int>>> PrepareRequestAsync()
    {
        INatsSub<byte[]> requests = await Server.SubscribeCoreAsync<byte[]>("raw.request", cancellationToken: _stop.Token);
        _subs.Add(requests);
        _loops.Add(Task.Run(async () =>
        {
            await foreach (NatsMsg<byte[]> msg in requests.Msgs.ReadAllAsync(_stop.Token))
            {
                await msg.ReplyAsync(msg.Data, cancellationToken: _stop.Token);
            }
        }));
        await Server.PingAsync();
        byte[] payload = RemotePayload.Create();
        return async () => (await Client.RequestAsync<byte[], byte[]>("raw.request", payload)).Data?.Length ?? 0;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (INatsSub<byte[]> sub in _subs)
        {
            await sub.DisposeAsync();
        }

        if (_client is not null)
        {
            await _client.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        await Task.WhenAll(_loops.Select(l => l.ContinueWith(static _ => { }, TaskScheduler.Default)));
        _nats?.Dispose();
        _stop.Dispose();
    }
}
