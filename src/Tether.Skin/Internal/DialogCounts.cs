using System.Runtime.CompilerServices;

namespace Tether.Skin.Internal;

/// <summary>How many dialogs are alive per node (a figure for statistics and tests).</summary>
internal static class DialogCounts
{
    private static readonly ConditionalWeakTable<Node, StrongBox<int>> s_counts = new();

    public static void Add(Node node, int delta)
    {
        StrongBox<int> box = s_counts.GetValue(node, static _ => new StrongBox<int>());
        Interlocked.Add(ref box.Value, delta);
    }

    public static int Get(Node node) => s_counts.TryGetValue(node, out StrongBox<int>? box) ? Volatile.Read(ref box.Value) : 0;
}
