using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Tether.Internal;

namespace Tether;

/// <summary>
/// The location-transparent identity of a target: the name of its node and a local id that is never reused
/// within that node. An address is a small value that can travel inside messages.
/// </summary>
/// <remarks>
/// Inside the node that created it, an address also carries a hidden reference to the target's mailbox,
/// so local delivery needs no lookup (another node in the same process does not use it: it goes through its transport).
/// That reference never takes part in equality or formatting.
/// </remarks>
public readonly struct Address : IEquatable<Address>
{
    internal readonly TargetCell? Cell;

    /// <summary>Creates an address from a node name and a local id (for example one read from the wire).</summary>
    /// <param name="node">The node's name; must not be empty or contain '/'.</param>
    /// <param name="id">The local id, greater than zero.</param>
    public Address(string node, long id)
    {
        ArgumentException.ThrowIfNullOrEmpty(node);
        if (node.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"A node name may not contain '/': \"{node}\".", nameof(node));
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(id);
        Node = node;
        Id = id;
        Cell = null;
    }

    internal Address(string node, long id, TargetCell cell)
    {
        Node = node;
        Id = id;
        Cell = cell;
    }

    /// <summary>The "nobody" address: the sender of a message sent from outside any target.</summary>
    public static Address None => default;

    /// <summary>The name of the node that hosts the target; null for <see cref="None"/>.</summary>
    public string Node { get; }

    /// <summary>The local id of the target within its node.</summary>
    public long Id { get; }

    /// <summary>True for <see cref="None"/>.</summary>
    public bool IsNone => Node is null;

    /// <summary>Parses the text form <c>node/id</c> that <see cref="ToString"/> writes.</summary>
    /// <exception cref="FormatException">The text is not of the form <c>node/id</c>.</exception>
    public static Address Parse(string text)
    {
        if (TryParse(text, out Address address))
        {
            return address;
        }

        throw new FormatException($"\"{text}\" is not an address: expected \"node/id\" with a positive integer id.");
    }

    /// <summary>Tries to parse the text form <c>node/id</c>.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out Address address)
    {
        address = default;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        int slash = text.LastIndexOf('/');
        if (slash <= 0 || slash == text.Length - 1)
        {
            return false;
        }

        if (!long.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long id) || id <= 0)
        {
            return false;
        }

        string node = text[..slash];
        if (node.Contains('/', StringComparison.Ordinal))
        {
            return false;
        }

        address = new Address(node, id);
        return true;
    }

    /// <inheritdoc />
    public bool Equals(Address other) => Id == other.Id && string.Equals(Node, other.Node, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is Address other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Node, Id);

    /// <summary>The text form <c>node/id</c>, or <c>(none)</c>.</summary>
    public override string ToString() => IsNone ? "(none)" : string.Create(CultureInfo.InvariantCulture, $"{Node}/{Id}");

    /// <summary>Compares two addresses by node and id.</summary>
    public static bool operator ==(Address left, Address right) => left.Equals(right);

    /// <summary>Compares two addresses by node and id.</summary>
    public static bool operator !=(Address left, Address right) => !left.Equals(right);
}
