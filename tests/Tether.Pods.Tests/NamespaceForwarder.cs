using System.Net.Sockets;
using System.Runtime.InteropServices;
using Tether.Testing;

namespace Tether.Pods.Tests;

/// <summary>
/// Lets the test process (in the host's network namespace) be a client inside a pod: a <see cref="TcpRelay"/> that
/// listens on the host's 127.0.0.1 and joins each connection to a socket created inside the pod's network namespace (a
/// socket stays in the namespace it was created in), connected to the pod's own 127.0.0.1:PORT. The host's interfaces
/// are not touched.
/// </summary>
internal sealed partial class NamespaceForwarder : IDisposable
{
    private const int CloneNewNet = 0x40000000;

    private readonly TcpRelay _relay;

    private NamespaceForwarder(string ns, int targetPort)
        => _relay = new TcpRelay(new Uri($"tcp://127.0.0.1:{targetPort}"), openTargetSocket: () => CreateInside(ns));

    /// <summary>The last reason a joined connection ended, for failure messages.</summary>
    public Exception? LastError => _relay.LastError;

    public int Port => _relay.Port;

    public string Url => $"nats://127.0.0.1:{Port}";

    public static NamespaceForwarder Start(string ns, int targetPort) => new(ns, targetPort);

    public void Dispose() => _relay.Dispose();

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
}
