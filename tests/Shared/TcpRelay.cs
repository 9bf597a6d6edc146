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
/// connection sees it closed, and reconnects through the relay). The socket toward the target can be made elsewhere
/// (the pods' tests make it inside a network namespace). Linked into the test projects that need it (Nats, Skin, Pods).
/// </summary>
public sealed class TcpRelay : IAsyncDisposable, IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly int? _targetReceiveBufferBytes;
    private readonly Func<Socket>? _openTargetSocket;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _sockets = [];
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
    /// <param name="openTargetSocket">Makes the (unconnected) TCP socket toward the target; a plain one when null.</param>
    public TcpRelay(Uri target, int? targetReceiveBufferBytes = null, Func<Socket>? openTargetSocket = null)
    {
        _target = new IPEndPoint(IPAddress.Parse(target.Host), target.Port);
        _targetReceiveBufferBytes = targetReceiveBufferBytes;
        _openTargetSocket = openTargetSocket;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>The port a client connects to, to reach the target through the relay.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>The last reason a relayed connection could not be made or ended other than by a close, for failure messages.</summary>
    public Exception? LastError { get; private set; }

    /// <summary>Sends a URI to the same path through this relay.</summary>
    public Uri Route(Uri uri) => new UriBuilder(uri) { Port = Port }.Uri;

    /// <summary>From now on nothing passes, and nothing is closed.</summary>
    public void Freeze() => _frozen = true;

    /// <summary>From now on nothing the target sends is read (until <see cref="Resume"/>).</summary>
    public void Stall() => Interlocked.Exchange(ref _flowing, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>Reads what the target sends again.</summary>
    public void Resume() => Volatile.Read(ref _flowing).TrySetResult();

    /// <summary>Stops at once: the listener and every relayed connection are closed; the pumps end by themselves.</summary>
    public void Dispose()
    {
        Resume();
        if (!_stop.IsCancellationRequested)
        {
            _stop.Cancel();
        }

        _listener.Stop();
        lock (_sockets)
        {
            foreach (Socket socket in _sockets)
            {
                socket.Dispose();
            }
        }
    }

    /// <summary>Stops as <see cref="Dispose"/> does, and waits until every pump has ended.</summary>
    public async ValueTask DisposeAsync()
    {
        Dispose();
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
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            client.NoDelay = true;
            Track(client);
            lock (_pumps)
            {
                _pumps.Add(JoinAsync(client)); // connections are joined side by side: a slow connect holds up no other
            }
        }
    }

    private async Task JoinAsync(Socket client)
    {
        Socket? target = null;
        try
        {
            target = _openTargetSocket?.Invoke() ?? new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            target.NoDelay = true;
            if (_targetReceiveBufferBytes is int bytes)
            {
                target.ReceiveBufferSize = bytes;
            }

            Track(target);
            await target.ConnectAsync(_target, _stop.Token);
            using var fromClient = new NetworkStream(client, ownsSocket: false);
            using var fromTarget = new NetworkStream(target, ownsSocket: false);

            // Until both sides have closed (a frozen relay tells neither side of the other's close).
            await Task.WhenAll(PumpAsync(fromClient, fromTarget, fromTarget: false), PumpAsync(fromTarget, fromClient, fromTarget: true));
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // The target is not there (or its socket could not be made): the client sees its connection close.
            LastError = ex;
        }
        finally
        {
            Forget(client);
            if (target is not null)
            {
                Forget(target);
            }
        }
    }

    /// <summary>Keeps <paramref name="socket"/> to close on stop; closes it at once when the relay stopped meanwhile.</summary>
    private void Track(Socket socket)
    {
        lock (_sockets)
        {
            _sockets.Add(socket);
        }

        if (_stop.IsCancellationRequested)
        {
            socket.Dispose(); // Dispose, which cancels before it closes the sockets it holds, may have passed this one by
        }
    }

    private void Forget(Socket socket)
    {
        lock (_sockets)
        {
            _sockets.Remove(socket);
        }

        socket.Dispose();
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
            if (!_stop.IsCancellationRequested)
            {
                LastError = ex;
            }

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
