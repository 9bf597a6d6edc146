using Tether.Internal;
using Tether.Tests.TestSupport;
using Xunit.Abstractions;

namespace Tether.Tests;

/// <summary>Overload keeps memory bounded. Measures the whole heap, so it runs alone.</summary>
[Collection(SerialCollection.Name)]
public sealed class MailboxMemoryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Send_TenfoldOverloadOfABlockedTarget_DropsTheExcessAndMemoryStaysBounded()
    {
        const int capacity = 1_000;
        const int sent = 10_000;
        const int size = 10 * 1024;
        await using Node node = Node.Create();
        var sink = new BlobSink();
        Address target = node.Spawn(() => sink, new SpawnOptions { MailboxCapacity = capacity });
        using var gate = new ManualResetEventSlim();
        await MailboxTests.Hold(node, target, gate);
        long before = GC.GetTotalMemory(forceFullCollection: true);

        for (int i = 0; i < sent; i++)
        {
            node.Send(target, new Blob(new byte[size]));
        }

        long during = GC.GetTotalMemory(forceFullCollection: true);
        NodeStatistics stats = node.Statistics;
        long growth = during - before;
        output.WriteLine($"heap growth with the mailbox full: {growth / 1024.0 / 1024.0:0.0} MB (unbounded retention would be {sent * (double)size / 1024 / 1024:0} MB)");

        Assert.Equal(sent - capacity, stats.Dropped);
        Assert.Equal(capacity, stats.MailboxDepth);
        Assert.True(growth < 40L * 1024 * 1024, $"the heap grew by {growth:N0} bytes; the queued {capacity} blobs need about {capacity * size:N0}");
        Assert.True(growth > capacity * (long)size * 9 / 10, $"the heap grew by only {growth:N0} bytes: the measurement does not see the queued blobs");

        gate.Set();
        await Eventually.Until(() => sink.Count == capacity, "the queued blobs are handled once the gate opens");
        Assert.Equal(0, node.Statistics.MailboxDepth);
        long after = GC.GetTotalMemory(forceFullCollection: true);
        Assert.True(after - before < capacity * (long)size / 2, $"after draining the heap is still {after - before:N0} bytes above the start");
        Assert.Equal(sent - capacity, node.Statistics.Dropped);
    }

    /// <summary>
    /// A target's cell is 128 B on a 64-bit runtime: ten references, its id, the mailbox's four counters and three
    /// one-byte fields. An int more would cost 8 B per target (a million idle targets: 8 MB); this fails first.
    /// </summary>
    [Fact]
    public async Task TargetCell_IsAtMost128Bytes()
    {
        await using Node node = Node.Create();
        var sink = new BlobSink();
        DispatchTable table = DispatchTable<BlobSink>.Table;
        Func<Target> create = () => sink;
        _ = new TargetCell(node, 1, sink, table, create, 10, Supervision.Restart); // the type is loaded and its code compiled

        long before = GC.GetAllocatedBytesForCurrentThread();
        TargetCell cell = new(node, 2, sink, table, create, 10, Supervision.Restart);
        long size = GC.GetAllocatedBytesForCurrentThread() - before;
        GC.KeepAlive(cell);

        output.WriteLine($"a target cell: {size} B");
        Assert.True(size is > 0 and <= 128, $"a target cell takes {size} B; at most 128 B is what BENCHMARKS.md's memory per target assumes");
    }

    /// <summary>
    /// An envelope is 88 B on a 64-bit runtime: five references, the sender's address (its cell, node and id) and two
    /// one-byte fields. A node allocates one for every message it receives from the wire (remote blast: 400,000 per
    /// iteration), so a field more is 8 B per remote message; a local target's cell as sender shares the address's slot.
    /// </summary>
    [Fact]
    public async Task Envelope_IsAtMost88Bytes_AndKeepsBothKindsOfSender()
    {
        await using Node node = Node.Create();
        var sink = new BlobSink();
        TargetCell from = new(node, 3, sink, DispatchTable<BlobSink>.Table, () => sink, 10, Supervision.Restart);
        _ = new Envelope(Category.Send, default, sink, null); // the type is loaded and its code compiled

        long before = GC.GetAllocatedBytesForCurrentThread();
        Envelope envelope = new(Category.Send, new Address("remote", 7), sink, null);
        long size = GC.GetAllocatedBytesForCurrentThread() - before;

        output.WriteLine($"an envelope: {size} B");
        Assert.True(size is > 0 and <= 88, $"an envelope takes {size} B; every message received from another node allocates one");
        Assert.Equal(new Address("remote", 7), envelope.Sender);
        envelope.SetSender(from);
        Assert.Equal(from.Address, envelope.Sender);
        envelope.SetSender(Address.None);
        Assert.True(envelope.Sender.IsNone);
        envelope.SetSender(from);
        envelope.Clear();
        Assert.True(envelope.Sender.IsNone);
    }

    private sealed record Blob(byte[] Data);

    private sealed class BlobSink : Target, ITarget<BlobSink>
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public static void Wire(Channels<BlobSink> channels) => channels
            .On<Blob>(static (self, m, ctx) => Interlocked.Increment(ref self._count))
            .On<Block>(static (self, m, ctx) =>
            {
                m.Entered.TrySetResult();
                m.Gate.Wait(TimeSpan.FromSeconds(60));
            });
    }
}
