using System.Net;
using System.Net.Sockets;

namespace Tether.Skin.Tests.Support;

/// <summary>
/// A TCP relay on 127.0.0.1 that forwards both ways until <see cref="Freeze"/>; from then on it swallows every byte in
/// both directions and closes nothing: to the server, a connection through it is a socket that just died (a cable
/// pulled, a laptop lid shut), with no close frame, no FIN and no RST.
/// </summary>
internal sealed class BlackHoleRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _sockets = [];
    private readonly List<Task> _pumps = [];
    private readonly Task _accepting;
    private volatile bool _frozen;

    public BlackHoleRelay(Uri target)
    {
        _target = new IPEndPoint(IPAddress.Parse(target.Host), target.Port);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>Sends a URI to the same path through this relay.</summary>
    public Uri Route(Uri uri) => new UriBuilder(uri) { Port = ((IPEndPoint)_listener.LocalEndpoint).Port }.Uri;

    /// <summary>From now on nothing passes, and nothing is closed.</summary>
    public void Freeze() => _frozen = true;

    public async ValueTask DisposeAsync()
    {
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
            await Task.WhenAll(pumps).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // Stopped: the relay's own sockets were closed under its pumps.
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            var outbound = new TcpClient();
            lock (_sockets)
            {
                _sockets.Add(inbound);
                _sockets.Add(outbound);
            }

            await outbound.ConnectAsync(_target, _stop.Token);
            lock (_pumps)
            {
                _pumps.Add(PumpAsync(inbound.GetStream(), outbound.GetStream()));
                _pumps.Add(PumpAsync(outbound.GetStream(), inbound.GetStream()));
            }
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to)
    {
        byte[] buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                int read = await from.ReadAsync(buffer, _stop.Token);
                if (_frozen)
                {
                    if (read == 0)
                    {
                        return; // the side that closed is not told to the other: the connection stays "open" there
                    }

                    continue;
                }

                if (read == 0)
                {
                    to.Socket.Shutdown(SocketShutdown.Send);
                    return;
                }

                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // The relay stops, or a side reset its end.
        }
    }
}
