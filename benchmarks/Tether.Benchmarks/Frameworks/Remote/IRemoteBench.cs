namespace Tether.Benchmarks.Frameworks.Remote;

/// <summary>
/// Two nodes of one framework in this process, talking over the network (loopback): a client side and a server side
/// that hosts an echo/responder. Created fresh for each workload; <see cref="StartAsync"/> brings both sides up and
/// connects them. The harness does all timing.
/// </summary>
internal interface IRemoteBench : IAsyncDisposable
{
    /// <summary>Starts both nodes (and whatever they need, such as a broker) and waits until they can talk.</summary>
    Task StartAsync();

    /// <summary>
    /// Prepares a client on the client node that sends <paramref name="messages"/> 32-byte messages fire-and-forget to an
    /// echo on the server node, never more than <paramref name="window"/> unanswered; the echo sends each back. The
    /// delegate starts it and completes when every echo has arrived.
    /// </summary>
    Task<Func<Task>> PrepareBlastAsync(int messages, int window);

    /// <summary>
    /// Prepares a responder on the server node; the delegate sends one 32-byte request from outside the runtime on the
    /// client node and returns the length of the 32-byte answer. It may be called concurrently.
    /// </summary>
    Task<Func<Task<int>>> PrepareRequestAsync();
}

/// <summary>The payload every remote scenario carries, the same 32 bytes for every framework.</summary>
internal static class RemotePayload
{
    public const int Size = 32;

    public static byte[] Create() => Enumerable.Range(0, Size).Select(i => (byte)i).ToArray();
}
