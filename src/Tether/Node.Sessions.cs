using System.Diagnostics.Metrics;
using Tether.Internal;

namespace Tether;

public sealed partial class Node
{
    private long _sessionRefusals;

    /// <summary>Messages a protected input channel refused (no session, bad or expired or revoked token, missing right).</summary>
    internal long SessionRefusals => Interlocked.Read(ref _sessionRefusals);

    /// <summary>
    /// A protected channel refused a message: the requester gets the verdict's error; a send or event is dropped,
    /// counted and logged (at the 1st, 2nd, 4th, 8th... refusal on this node, so a flood of bad tokens is no log flood).
    /// The text never holds the token.
    /// </summary>
    internal void SessionRefused(TargetCell cell, Envelope envelope, in SessionVerdict verdict)
    {
        long refused = Interlocked.Increment(ref _sessionRefusals);
        _refusedCounter.Add(1, new KeyValuePair<string, object?>("tether.error.code", verdict.ErrorCode));
        if (envelope.Reply is not null)
        {
            envelope.Reply.TryFail(verdict.ToException());
            return;
        }

        if ((refused & (refused - 1)) == 0)
        {
            Log.SessionRefused(Logger, envelope.Payload.GetType().Name, envelope.Sender, cell.Table.TargetTypeName, cell.Address, verdict.ErrorCode ?? "", verdict.ErrorText ?? "", refused);
        }
    }
}
