using System.Net;
using System.Net.Sockets;

namespace Tether.Testing;

/// <summary>
/// A TCP relay on 127.0.0.1 in front of a target (a nats-server, a web host) that forwards both ways and can be made to
/// misbehave the way a network or a peer does:
/// <list type="bullet">
/// <item><see cref="Freeze"/>: from then on it swallows every byte in both directions and closes nothing: to the target,
/// a connection through it is a socket that just died (a cable pulled, a laptop lid shut), with no close frame, no FIN
/// and no RST.</item>
/// <item><see cref="Stall"/>: it stops reading what the target sends (the client's side still writes): to the target the
/// client is a reader that fell behind, so the target's pending output grows (a nats-server's slow-consumer rule then
/// cuts it off). <see cref="Resume"/> reads again.</item>
/// </list>
/// While it is not frozen, a close or a reset on one side is passed on to the other (a client whose server closed its
/// connection sees it closed, and reconnects through the relay). Linked into the test projects that need it (Nats, Skin).
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly int? _targetReceiveBufferBytes;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _sockets = [];
    private readonly List<Task> _pumps = [];
    private readonly Task _accepting;
    private TaskCompletionSource _flowing = NewOpenGate();
    private volatile bool _frozen;

    /// <summary>Starts a relay to <paramref name="target"/>'s host (an IP address) and port.</summary>
    /// <param name="target">Where connections are relayed to.</param>
    /// <param name="targetReceiveBufferBytes">
    /// The receive buffer of the relay's sockets toward the target (the system's default when null). A small one makes a
    /// <see cref="Stall"/> felt at once: little of what the target sends then fits in the kernel's buffers.
    /// </param>
    public TcpRelay(Uri target, int? targetReceiveBufferBytes = null)
    {
        _target = new IPEndPoint(IPAddress.Parse(target.Host), target.Port);
        _targetReceiveBufferBytes = targetReceiveBufferBytes;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>The port a client connects to, to reach the target through the relay.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Sends a URI to the same path through this relay.</summary>
    public Uri Route(Uri uri) => new UriBuilder(uri) { Port = Port }.Uri;

    /// <summary>From now on nothing passes, and nothing is closed.</summary>
    public void Freeze() => _frozen = true;

    /// <summary>From now on nothing the target sends is read (until <see cref="Resume"/>).</summary>
    public void Stall() => Interlocked.Exchange(ref _flowing, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>Reads what the target sends again.</summary>
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

            var target = new TcpClient();
            if (_targetReceiveBufferBytes is int bytes)
            {
                target.ReceiveBufferSize = bytes;
            }

            lock (_sockets)
            {
                _sockets.Add(client);
                _sockets.Add(target);
            }

            try
            {
                await target.ConnectAsync(_target, _stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                client.Dispose();
                continue;
            }

            lock (_pumps)
            {
                _pumps.Add(PumpAsync(client.GetStream(), target.GetStream(), fromTarget: false));
                _pumps.Add(PumpAsync(target.GetStream(), client.GetStream(), fromTarget: true));
            }
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, bool fromTarget)
    {
        byte[] buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                if (fromTarget)
                {
                    await Volatile.Read(ref _flowing).Task.WaitAsync(_stop.Token);
                }

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
                    Shutdown(to, SocketShutdown.Send);
                    return;
                }

                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // The relay stops, or a side reset its end: unless frozen, close the other side too, so its client learns it.
            if (!_frozen)
            {
                Shutdown(to, SocketShutdown.Both);
            }
        }
    }

    private static void Shutdown(NetworkStream stream, SocketShutdown how)
    {
        try
        {
            stream.Socket.Shutdown(how);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Closed already.
        }
    }
}
