using System.Collections.Concurrent;

namespace Tether.Tests.TestSupport;

/// <summary>Holds a target's mailbox: the handler signals <see cref="Entered"/> and blocks its thread until the gate opens.</summary>
/// <remarks>
/// Blocking a thread is what a real handler must never do; a test does it on purpose because an asynchronous
/// handler would not hold the mailbox (at an await the mailbox goes on with other messages: turn-based re-entry).
/// </remarks>
internal sealed record Block(ManualResetEventSlim Gate, TaskCompletionSource Entered);

internal sealed record Ping(int N) : IRequest<int>;

internal sealed record Note(int N);

internal sealed record Never : IRequest<int>;

internal sealed record CountNotes : IRequest<int>;

/// <summary>A general-purpose target: answers <see cref="Ping"/>, counts <see cref="Note"/>s (<see cref="CountNotes"/>), blocks on <see cref="Block"/>, never answers <see cref="Never"/>.</summary>
internal sealed class Probe : Target, ITarget<Probe>
{
    private readonly ConcurrentQueue<ReplyToken<int>> _unanswered = new();
    private int _notes;

    public TaskCompletionSource<string> Ended { get; } = Waits.NewSignal<string>();

    public int Notes => Volatile.Read(ref _notes);

    public int Unanswered => _unanswered.Count;

    public static void Wire(Channels<Probe> channels) => channels
        .Request<Ping, int>(static (self, m, ctx) => m.N)
        .On<Note>(static (self, m, ctx) => Interlocked.Increment(ref self._notes))
        .Request<CountNotes, int>(static (self, m, ctx) => self.Notes)
        .On<Block>(static (self, m, ctx) =>
        {
            m.Entered.TrySetResult();
            if (!m.Gate.Wait(TimeSpan.FromSeconds(60)))
            {
                throw new TimeoutException("The test never opened the gate.");
            }
        })
        .Deferred<Never, int>(static (self, m, reply, ctx) => self._unanswered.Enqueue(reply));

    protected internal override void OnEnded(Context context, string reason) => Ended.TrySetResult(reason);
}
