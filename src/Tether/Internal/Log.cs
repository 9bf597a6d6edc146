using Microsoft.Extensions.Logging;

namespace Tether.Internal;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Error, "{TargetType} at {Address} threw handling {MessageType}; supervision: {Supervision}")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string targetType, Address address, string messageType, Supervision supervision);

    [LoggerMessage(2, LogLevel.Error, "Restarting {TargetType} at {Address} failed; the target ends")]
    public static partial void RestartFailed(ILogger logger, Exception exception, string targetType, Address address);

    [LoggerMessage(3, LogLevel.Warning, "End of {Address} requested by {RequestedBy} refused: only its owner ({Owner}), itself or the node may end it")]
    public static partial void EndRefused(ILogger logger, Address address, Address requestedBy, Address owner);

    [LoggerMessage(4, LogLevel.Error, "A turn of {TargetType} at {Address} threw")]
    public static partial void TurnFailed(ILogger logger, Exception exception, string targetType, Address address);

    [LoggerMessage(5, LogLevel.Error, "OnEnded of {TargetType} at {Address} threw")]
    public static partial void OnEndedFailed(ILogger logger, Exception exception, string targetType, Address address);

    [LoggerMessage(6, LogLevel.Debug, "{TargetType} at {Address} ended: {Reason}")]
    public static partial void TargetEnded(ILogger logger, string targetType, Address address, string reason);

    [LoggerMessage(7, LogLevel.Debug, "Dead letter: {MessageType} from {Sender} to {To}: {Why}")]
    public static partial void DeadLetter(ILogger logger, string messageType, Address sender, Address to, string why);

    [LoggerMessage(8, LogLevel.Warning, "Mailbox of {TargetType} at {Address} is full ({Capacity}); dropping {MessageType} (dropped so far on this node: {Dropped})")]
    public static partial void Dropped(ILogger logger, string targetType, Address address, int capacity, string messageType, long dropped);

    [LoggerMessage(9, LogLevel.Warning, "{TargetType} at {Address} answered {MessageType} with error {Code} ({Text}) but the request had already ended")]
    public static partial void ErrorAnswerLost(ILogger logger, string targetType, Address address, string messageType, string code, string text);

    [LoggerMessage(10, LogLevel.Information, "Node {Node} started")]
    public static partial void NodeStarted(ILogger logger, string node);

    [LoggerMessage(11, LogLevel.Information, "Node {Node} stopped ({Targets} targets ended)")]
    public static partial void NodeStopped(ILogger logger, string node, int targets);

    [LoggerMessage(12, LogLevel.Warning, "Dropped {MessageType} from {Sender} to {TargetType} at {Address}: session refused, {Code}: {Text} (session refusals so far on this node: {Refused})")]
    public static partial void SessionRefused(ILogger logger, string messageType, Address sender, string targetType, Address address, string code, string text, long refused);

    [LoggerMessage(40, LogLevel.Warning, "Dropped {MessageType} from {Sender} to {TargetType} at {Address}: {Violation} (same rule, not logged since the last report: {Suppressed}; this rule is logged at most once a minute)")]
    public static partial void ContractViolationDropped(ILogger logger, string messageType, Address sender, string targetType, Address address, string violation, long suppressed);
}
