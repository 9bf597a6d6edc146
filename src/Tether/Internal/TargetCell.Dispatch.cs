using System.Diagnostics;

namespace Tether.Internal;

// Dispatch: from a taken envelope to its input channel, through the adapters' preconditions and the session gate,
// and the run of a handler (its span, its async continuation as turns of this target).
internal sealed partial class TargetCell
{
    private readonly PipeCache? _pipes;

    private void Process(Envelope envelope)
    {
        if (envelope.Category == Category.System)
        {
            HandleSystem(envelope);
            return;
        }

        if (Volatile.Read(ref _state) != Alive)
        {
            Node.RejectEnded(this, envelope);
            return;
        }

        if (envelope.Reply is { IsCompleted: true })
        {
            return; // The requester already has its outcome (timed out): do not run work nobody waits for.
        }

        ChannelHandler? handler;
        if (_pipes is null)
        {
            handler = Table.Find(envelope.Payload.GetType()); // no adapters: this null check is all they cost
        }
        else if (!TryAdapt(_pipes, envelope, out handler))
        {
            return;
        }

        if (handler is null)
        {
            Node.NoHandler(this, envelope);
            return;
        }

        if (envelope.Reply is not null && !handler.IsRequest)
        {
            envelope.Reply.TryFail(new TetherException(
                ErrorCodes.NoHandler,
                $"{Table.TargetTypeName} at {Address} takes {envelope.Payload.GetType().Name} as a send or event, not as a request."));
            return;
        }

        if (_gate is { Count: > 0 } gate && gate.Holds(envelope, out SessionGate.Stream stream))
        {
            gate.Park(envelope, handler, stream); // behind this sender's earlier parked messages: one sender's order holds
            return;
        }

        if (handler.RequiredRight is not null)
        {
            Admit(handler, envelope);
            return;
        }

        Run(handler, envelope, null);
    }

    /// <summary>
    /// Runs the inbound pipe (preconditions, transforms) and finds the handler for the result, which may be of another
    /// type (v1 → v2, or a projection). False when the pipe refused the message; the node has answered or dropped it.
    /// </summary>
    private bool TryAdapt(PipeCache pipes, Envelope envelope, out ChannelHandler? handler)
    {
        Type type = envelope.Payload.GetType();
        int index = Table.IndexOf(type);
        MessagePipe? pipe;
        try
        {
            pipe = index >= 0 ? pipes.InboundAt(index) : pipes.InboundUnhandled(type);
            if (pipe is not null)
            {
                object adapted = pipe.Apply(envelope.Payload);
                if (!ReferenceEquals(adapted, envelope.Payload))
                {
                    envelope.Payload = adapted;
                    if (!ReferenceEquals(adapted.GetType(), type))
                    {
                        index = Table.IndexOf(adapted.GetType());
                    }
                }
            }
        }
        catch (TetherException ex)
        {
            Node.InboundRejected(this, envelope, ex);
            handler = null;
            return false;
        }
#pragma warning disable CA1031 // a faulty adapter rejects the message; it never takes the mailbox down
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Node.InboundRejected(this, envelope, new TetherException(
                ErrorCodes.HandlerFailed,
                $"The adapters of {Table.TargetTypeName} failed on {type.Name}: {ex.GetType().Name}: {ex.Message}",
                ex));
            handler = null;
            return false;
        }

        handler = index >= 0 ? Table.At(index) : null;
        return true;
    }

    /// <summary>True when the node has adapters; their pipes for this target type are then cached here.</summary>
    public bool HasAdapters => _pipes is not null;

    /// <summary>True when the node's adapters have postconditions (some message type is checked when sent).</summary>
    public bool HasPostconditions => _pipes is { HasOutbound: true };

    /// <summary>Applies this target type's postconditions to an outgoing message (without adapters, one null check).</summary>
    public object? AdaptOutbound(object? message) => _pipes is null ? message : _pipes.Outbound(message);

    private void Run(ChannelHandler handler, Envelope envelope, SessionIdentity? identity)
    {
        Activity? outer = null;
        Activity? activity = null;
        if (envelope.HasTrace && Telemetry.Source.HasListeners())
        {
            outer = Activity.Current;
            activity = Telemetry.StartHandle(envelope, Table.TargetTypeName, Address);
        }

        Node.CountHandled();

        if (!handler.IsAsync)
        {
            try
            {
                handler.Invoke(Target, envelope, new Context(this, envelope.Sender, envelope.Session, identity));
            }
#pragma warning disable CA1031 // a handler's failure goes to the requester and to supervision, never up the thread pool
            catch (Exception ex)
#pragma warning restore CA1031
            {
                HandlerFailed(envelope, ex);
            }

            activity?.Dispose();
            return;
        }

        SynchronizationContext? previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(Extras.Turn ??= new TurnContext(this));
        try
        {
            ValueTask pending = handler.Invoke(Target, envelope, new Context(this, envelope.Sender, envelope.Session, identity));
            if (pending.IsCompletedSuccessfully)
            {
                pending.GetAwaiter().GetResult();
                activity?.Dispose();
            }
            else
            {
                (Extras.InFlight ??= []).Add(envelope);
                if (!AwaitHandler(pending, envelope, activity).IsCompleted)
                {
                    // Recycled when the handler completes (a later turn of this target), not when this turn ends.
                    envelope.Held = true;
                }
            }
        }
#pragma warning disable CA1031
        catch (Exception ex)
#pragma warning restore CA1031
        {
            activity?.Dispose();
            HandlerFailed(envelope, ex);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
            if (activity is not null)
            {
                // A suspended handler keeps its span (its awaits captured it); the next message in this run must not inherit it.
                Activity.Current = outer;
            }
        }
    }

    // Started while the turn context is installed, so its own continuation is a turn of this target too.
    private async Task AwaitHandler(ValueTask pending, Envelope envelope, Activity? activity)
    {
        try
        {
            await pending;
        }
#pragma warning disable CA1031
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if (IsAlive)
            {
                HandlerFailed(envelope, ex);
            }
        }
        finally
        {
            _extras?.InFlight?.Remove(envelope);
            activity?.Dispose();
            if (envelope.Held)
            {
                EnvelopePool.Return(envelope); // else it completed inside Run, and the mailbox recycles it
            }
        }
    }

    private void RunTurn(Continuation continuation)
    {
        SynchronizationContext? previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(Extras.Turn ??= new TurnContext(this));
        try
        {
            continuation.Callback(continuation.State);
        }
#pragma warning disable CA1031
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.TurnFailed(Node.Logger, ex, Table.TargetTypeName, Address);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }
}
