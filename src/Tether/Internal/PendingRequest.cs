using System.Diagnostics;
using System.Threading.Tasks.Sources;

namespace Tether.Internal;

/// <summary>
/// A request awaiting its outcome. Registered with the node's deadline sweeper until it completes.
/// Continuations run on the requesting target's mailbox when awaited inside a handler, on the thread pool otherwise,
/// never on the responder's thread. A transport that completes a batch of answers in one thread-pool work item
/// (<see cref="ReplySink.TryCompleteHere"/>) runs an outside caller's continuation there, inline.
/// </summary>
internal sealed class PendingRequest<T> : ReplySink, IValueTaskSource<T>, DeadlineSweeper.IExpiring, ITypedReply<T>
{
    private readonly Node _node;
    private readonly Type _requestType;
    private readonly Address _to;
    private readonly TimeSpan _timeout;
    private readonly long _startTimestamp;
    private ManualResetValueTaskSourceCore<T> _core;
    private Activity? _activity;

    private readonly string? _service;

    public PendingRequest(Node node, Type requestType, Address to, TimeSpan timeout, string? service = null)
    {
        _service = service;
        _node = node;
        _requestType = requestType;
        _to = to;
        _timeout = timeout;
        _core.RunContinuationsAsynchronously = true;
        _startTimestamp = Telemetry.RequestStart();
    }

    /// <summary>Stamped by the deadline sweeper as it queues the request, so queue order is deadline order.</summary>
    public long Deadline { get; set; }

    public TimeSpan Timeout => _timeout;

    public Activity? Activity
    {
        set => _activity = value;
    }

    public ValueTask<T> Task => new(this, _core.Version);

    public override string Describe() => _service is null ? $"{_requestType.Name} to {_to}" : $"{_requestType.Name} to service {_service}";

    public void Expire()
        => TryFail(new TetherException(ErrorCodes.Timeout, $"Request {Describe()} got no answer within {_timeout.TotalMilliseconds:0} ms."));

    protected override void OnResponse(object? value)
    {
        Finish();
        if (value is T typed)
        {
            _core.SetResult(typed);
        }
        else if (value is null && default(T) is null)
        {
            _core.SetResult(default!);
        }
        else
        {
            _activity?.SetStatus(ActivityStatusCode.Error, ErrorCodes.WrongResponseType);
            _core.SetException(new TetherException(
                ErrorCodes.WrongResponseType,
                $"Request {Describe()} expected a {typeof(T).Name} but the answer was a {value?.GetType().Name ?? "null"}."));
        }

        _activity?.Dispose();
    }

    protected override void OnResponseHere(object? value)
    {
        // Only the winner of the sink gets here, so no other completion reads the flag. A continuation that captured a
        // context (a target's turns) is still posted to it. The span ends before the continuation runs here, so it
        // measures the request, not what the caller does next.
        _core.RunContinuationsAsynchronously = false;
        if (value is not T && !(value is null && default(T) is null))
        {
            OnResponse(value); // the wrong type: an error, no continuation of the caller's runs inside the span
            return;
        }

        Finish();
        _activity?.Dispose();
        _activity = null;
        _core.SetResult((T)value!);
    }

    void ITypedReply<T>.OnTypedResponse(T value)
    {
        Finish();
        _core.SetResult(value);
        _activity?.Dispose();
    }

    protected override void OnError(TetherException error)
    {
        Finish();
        if (_activity is not null)
        {
            _activity.SetStatus(ActivityStatusCode.Error, error.Code);
            _activity.Dispose();
        }

        _core.SetException(error);
    }

    private void Finish()
    {
        Telemetry.RecordRequest(_startTimestamp);
    }

    T IValueTaskSource<T>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<T>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<T>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);
}
