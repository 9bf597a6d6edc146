using System.Net;
using System.Net.Sockets;

namespace Tether.Nats.Tests;

/// <summary>
/// A TCP relay on 127.0.0.1 in front of a nats-server. While <see cref="Stall"/> holds, it stops reading what the
/// server sends (the client's side still writes): to the server the client is a reader that fell behind, so its pending
/// output grows until the server's slow-consumer rule cuts it off. <see cref="Resume"/> reads again; a connection the
/// server closed is closed to the client too, which reconnects through the relay.
/// </summary>
internal sealed class StallRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _server;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _sockets = [];
    private readonly List<Task> _pumps = [];
    private readonly Task _accepting;
    private TaskCompletionSource _flowing = NewOpenGate();

    public StallRelay(int serverPort)
    {
        _server = new IPEndPoint(IPAddress.Loopback, serverPort);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>The URL a client connects to, to reach the server through the relay.</summary>
    public string Url => $"nats://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>From now on nothing the server sends is read (until <see cref="Resume"/>).</summary>
    public void Stall() => Interlocked.Exchange(ref _flowing, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>Reads what the server sends again.</summary>
    public void Resume() => Volatile.Read(ref _flowing).TrySetResult();

    public async ValueTask DisposeAsync()
    {
        Resume();
        await _stop.CancelAsync();
        _listener.Stop();
        lock (_sockets)
        {
            foreach (TcpClient socket in _sockets)
            {
                socket.Dispose();
            }
        }

        Task[] pumps;
        lock (_pumps)
        {
            pumps = [.. _pumps, _accepting];
        }

        try
        {
            await Task.WhenAll(pumps).WaitAsync(TimeSpan.FromSeconds(10)); // a hang guard: the sockets are closed above
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // Stopped: the relay's own sockets were closed under its pumps.
        }

        _stop.Dispose();
    }

    private static TaskCompletionSource NewOpenGate()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.SetResult();
        return gate;
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            // A small receive buffer toward the server: while stalled, little of what the server sends fits in the
            // kernel's buffers, so the server's own pending output (its slow-consumer limit) grows at once.
            var server = new TcpClient { ReceiveBufferSize = 16 * 1024 };
            lock (_sockets)
            {
                _sockets.Add(client);
                _sockets.Add(server);
            }

            try
            {
                await server.ConnectAsync(_server, _stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                client.Dispose();
                continue;
            }

            lock (_pumps)
            {
                _pumps.Add(PumpAsync(client.GetStream(), server.GetStream(), gated: false));
                _pumps.Add(PumpAsync(server.GetStream(), client.GetStream(), gated: true));
            }
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, bool gated)
    {
        byte[] buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                if (gated)
                {
                    await Volatile.Read(ref _flowing).Task.WaitAsync(_stop.Token);
                }

                int read = await from.ReadAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    to.Socket.Shutdown(SocketShutdown.Both);
                    return;
                }

                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // The relay stops, or a side reset its end: close the other side too, so the client reconnects.
            try
            {
                to.Socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception inner) when (inner is SocketException or ObjectDisposedException)
            {
                // Closed already.
            }
        }
    }
}
