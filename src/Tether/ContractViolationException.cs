namespace Tether;

/// <summary>
/// A message broke a rule of its contract (code <see cref="ErrorCodes.ContractViolation"/>). Thrown by a
/// <see cref="MessagePipe"/>; the parts name what to fix: the message type, the field, the rule and the offending value.
/// </summary>
/// <remarks>
/// Remote requesters receive the code and the text; the structured parts are available where the error was raised
/// and to local requesters.
/// </remarks>
public sealed class ContractViolationException : TetherException
{
    /// <summary>Creates a violation; the text is composed from the parts.</summary>
    /// <param name="messageType">The contract (or CLR) name of the message type.</param>
    /// <param name="path">The field path, such as <c>items[2].quantity</c>; empty for a rule on the whole message.</param>
    /// <param name="rule">The rule in words, such as <c>range 1..100</c>.</param>
    /// <param name="value">The offending value as text, already masked when the field is sensitive.</param>
    /// <param name="detail">What is wrong, in words; it ends the text.</param>
    public ContractViolationException(string messageType, string path, string rule, string value, string detail)
        : base(ErrorCodes.ContractViolation, Compose(messageType, path, rule, value, detail))
    {
        MessageType = messageType;
        Path = path;
        Rule = rule;
        Value = value;
    }

    /// <summary>The contract (or CLR) name of the message type.</summary>
    public string MessageType { get; }

    /// <summary>The field path (<c>customer.address.zip</c>, <c>items[2].quantity</c>); empty for a rule on the whole message.</summary>
    public string Path { get; }

    /// <summary>The rule that failed, in words.</summary>
    public string Rule { get; }

    /// <summary>The offending value as text; masked for a field marked sensitive.</summary>
    public string Value { get; }

    private static string Compose(string messageType, string path, string rule, string value, string detail)
    {
        string where = path.Length == 0 ? messageType : $"{messageType}.{path}";
        return $"{where} breaks the contract rule '{rule}': {detail} (value: {value}).";
    }
}
