namespace Tether.Benchmarks.Frameworks.Remote;

/// <summary>
/// Two (or more) nodes of one framework in this process, talking over the network (loopback): a client side and a server side
/// that hosts an echo/responder. Created fresh for each workload; <see cref="StartAsync"/> brings both sides up and
/// connects them. The harness does all timing.
/// </summary>
internal interface IRemoteBench : IAsyncDisposable
{
    /// <summary>
    /// Starts <paramref name="nodes"/> nodes (and whatever they need, such as a broker) and waits until each can talk to
    /// the next (node 0 is the client, node 1 the server of the request scenarios).
    /// </summary>
    Task StartAsync(int nodes);

    /// <summary>
    /// Prepares a client on node <paramref name="from"/> that sends <paramref name="messages"/> 32-byte messages
    /// fire-and-forget to an echo on node <paramref name="to"/>, never more than <paramref name="window"/> unanswered; the
    /// echo sends each back. The delegate starts it and completes when every echo has arrived.
    /// </summary>
    Task<Func<Task>> PrepareBlastAsync(int messages, int window, int from, int to);

    /// <summary>
    /// Prepares a responder on node 1; the delegate sends one 32-byte request from outside the runtime on node 0 and
    /// returns the length of the 32-byte answer. It may be called concurrently.
    /// </summary>
    Task<Func<Task<int>>> PrepareRequestAsync();
}

/// <summary>The payload every remote scenario carries, the same 32 bytes for every framework.</summary>
internal static class RemotePayload
{
    public const int Size = 32;

    public static byte[] Create() => Enumerable.Range(0, Size).Select(i => (byte)i).ToArray();
}
