using System.Collections.Concurrent;

namespace Tether.Sessions.Internal;

/// <summary>
/// Dedicated threads for BCrypt: never the thread pool (a storm of logins would starve the pool threads that verification
/// and the mailboxes need) and never a mailbox. A bounded queue in front: when it is full, a login fails at once.
/// </summary>
internal sealed class HashWorker : IDisposable
{
    private readonly BlockingCollection<Action> _queue;
    private readonly Thread[] _threads;
    private readonly Lazy<string> _dummyHash;
    private long _checks;

    public HashWorker(int threads, int capacity, int workFactor)
    {
        _queue = new BlockingCollection<Action>(new ConcurrentQueue<Action>(), capacity);
        // An unknown user is checked against this hash, so that it costs what a wrong password costs.
        _dummyHash = new Lazy<string>(() => Passwords.Hash(Guid.NewGuid().ToString("N"), workFactor), LazyThreadSafetyMode.ExecutionAndPublication);
        _threads = new Thread[threads];
        for (int i = 0; i < threads; i++)
        {
            _threads[i] = new Thread(Run) { IsBackground = true, Name = $"tether-sessions-hash-{i}" };
            _threads[i].Start();
        }
    }

    /// <summary>Checks <paramref name="password"/> against <paramref name="hash"/>, or against the dummy hash when null (then false).</summary>
    public Task<bool> VerifyAsync(string password, string? hash)
        => RunAsync(() =>
        {
            Interlocked.Increment(ref _checks);
            if (hash is null)
            {
                _ = Passwords.Verify(password, _dummyHash.Value);
                return false;
            }

            return Passwords.Verify(password, hash);
        });

    /// <summary>How many password checks ran (for tests: an unknown user must cost one, as a wrong password does).</summary>
    public long Checks => Interlocked.Read(ref _checks);

    /// <summary>The dummy hash unknown users are checked against (made on first use).</summary>
    public string DummyHash => _dummyHash.Value;

    public Task<string> HashAsync(string password, int workFactor) => RunAsync(() => Passwords.Hash(password, workFactor));

    public void Dispose()
    {
        _queue.CompleteAdding();
        foreach (Thread thread in _threads)
        {
            thread.Join(TimeSpan.FromSeconds(5));
        }

        _queue.Dispose();
    }

    private Task<T> RunAsync<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool queued;
        try
        {
            queued = _queue.TryAdd(() =>
            {
                try
                {
                    done.TrySetResult(work());
                }
#pragma warning disable CA1031 // handed to the awaiting login
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    done.TrySetException(ex);
                }
            });
        }
        catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException)
        {
            queued = false; // stopping
        }

        if (!queued)
        {
            done.TrySetException(new TetherException(SessionErrorCodes.Busy, "Too many logins are waiting for the password hasher; try again shortly."));
        }

        return done.Task;
    }

    private void Run()
    {
        foreach (Action item in _queue.GetConsumingEnumerable())
        {
            item();
        }
    }
}
