namespace Tether;

/// <summary>The error codes the runtime itself produces.</summary>
public static class ErrorCodes
{
    /// <summary>No answer arrived before the request's deadline.</summary>
    public const string Timeout = "timeout";

    /// <summary>The address names no live target (it never existed or has ended).</summary>
    public const string NoSuchTarget = "no-such-target";

    /// <summary>The target has no input channel for the message type.</summary>
    public const string NoHandler = "no-handler";

    /// <summary>The target's mailbox was full; the request was rejected without running.</summary>
    public const string MailboxFull = "mailbox-full";

    /// <summary>The handler threw an exception that was not a <see cref="TetherException"/>.</summary>
    public const string HandlerFailed = "handler-failed";

    /// <summary>The target ended before it answered.</summary>
    public const string TargetEnded = "target-ended";

    /// <summary>The response had a type other than the one the requester expected.</summary>
    public const string WrongResponseType = "wrong-response-type";

    /// <summary>No factory or service is registered under the name.</summary>
    public const string NoSuchService = "no-such-service";

    /// <summary>The node that hosts the target cannot be reached.</summary>
    public const string NodeUnreachable = "node-unreachable";

    /// <summary>
    /// The node that hosts the target stopped normally (it said goodbye) before it answered; unlike
    /// <see cref="NodeUnreachable"/>, no failure is suspected.
    /// </summary>
    public const string NodeStopped = "node-stopped";

    /// <summary>The operation was cancelled.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>The node is shutting down.</summary>
    public const string NodeStopping = "node-stopping";

    /// <summary>A reply was given for a request that already had its answer (or had timed out).</summary>
    public const string AlreadyAnswered = "already-answered";

    /// <summary>The argument or message was not acceptable.</summary>
    public const string BadRequest = "bad-request";

    /// <summary>
    /// A message broke a rule of its contract (an adapter's precondition or postcondition); the handler did not run.
    /// The text names the message type, the field, the rule and the value (see <see cref="ContractViolationException"/>).
    /// </summary>
    public const string ContractViolation = "contract-violation";

    /// <summary>A protected input channel got a message without a valid session token (missing, malformed, or not signed by a trusted key).</summary>
    public const string Unauthenticated = "unauthenticated";

    /// <summary>The session is valid but does not carry the right the input channel requires.</summary>
    public const string Forbidden = "forbidden";

    /// <summary>The session's token has expired.</summary>
    public const string SessionExpired = "session-expired";

    /// <summary>The session was revoked (logged out, or its user disabled).</summary>
    public const string SessionRevoked = "session-revoked";
}
