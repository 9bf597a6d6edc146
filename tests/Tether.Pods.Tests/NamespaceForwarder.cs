using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Tether.Pods.Tests;

/// <summary>
/// Lets the test process (in the host's network namespace) be a client inside a pod: it listens on the host's
/// 127.0.0.1 and joins each connection to a socket created inside the pod's network namespace (a socket stays in the
/// namespace it was created in), connected to the pod's own 127.0.0.1:PORT. The host's interfaces are not touched.
/// </summary>
internal sealed partial class NamespaceForwarder : IDisposable
{
    private const int CloneNewNet = 0x40000000;

    private readonly TcpListener _listener;
    private readonly string _namespace;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _open = [];

    private NamespaceForwarder(string ns, int targetPort)
    {
        _namespace = ns;
        _targetPort = targetPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _ = AcceptLoopAsync();
    }

    /// <summary>The last reason a joined connection ended, for failure messages.</summary>
    public Exception? LastError { get; private set; }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string Url => $"nats://127.0.0.1:{Port}";

    public static NamespaceForwarder Start(string ns, int targetPort) => new(ns, targetPort);

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = JoinAsync(client);
        }
    }

    private async Task JoinAsync(Socket client)
    {
        Socket? inside = null;
        try
        {
            inside = CreateInside(_namespace);
            await inside.ConnectAsync(new IPEndPoint(IPAddress.Loopback, _targetPort), _stop.Token);
            lock (_open)
            {
                _open.Add(client);
                _open.Add(inside);
            }

            using var a = new NetworkStream(client, ownsSocket: true);
            using var b = new NetworkStream(inside, ownsSocket: true);
            Task one = a.CopyToAsync(b, _stop.Token);
            Task two = b.CopyToAsync(a, _stop.Token);
            await Task.WhenAny(one, two);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // the pod's server went away, or we stop: the client sees its connection close and reconnects
            LastError = ex;
        }
        catch (InvalidOperationException ex)
        {
            LastError = ex; // could not enter the namespace: the client sees its connection close; tests name this error
        }
        finally
        {
            client.Dispose();
            inside?.Dispose();
        }
    }

    /// <summary>A TCP socket of network namespace <paramref name="ns"/>: made on a thread of its own that enters the namespace and leaves it.</summary>
    private static Socket CreateInside(string ns)
    {
        Socket? socket = null;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                using Microsoft.Win32.SafeHandles.SafeFileHandle home = File.OpenHandle("/proc/thread-self/ns/net");
                using Microsoft.Win32.SafeHandles.SafeFileHandle target = File.OpenHandle(Path.Join("/run/netns", ns));
                if (SetNs((int)target.DangerousGetHandle(), CloneNewNet) != 0)
                {
                    throw new InvalidOperationException($"setns into network namespace {ns} failed (errno {Marshal.GetLastPInvokeError()}); it needs root");
                }

                try
                {
                    socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                }
                finally
                {
                    if (SetNs((int)home.DangerousGetHandle(), CloneNewNet) != 0)
                    {
                        Environment.FailFast("could not return a thread to the test's network namespace");
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                error = ex;
            }
        });
        thread.Start();
        thread.Join();
        return socket ?? throw new InvalidOperationException($"could not open a socket in network namespace {ns}: {error?.Message}", error);
    }

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nstype);

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_open)
        {
            foreach (Socket socket in _open)
            {
                socket.Dispose();
            }
        }
    }
}
