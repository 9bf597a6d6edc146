using System.Buffers;
using System.Buffers.Binary;

namespace Tether.Nats.Internal;

/// <summary>An outbox's buffers: a segment of batch items laid out as a batch frame, and what describes each item.</summary>
internal sealed partial class Outbox
{
    /// <summary>A frame encoded in a producer's scratch buffer, after its item's correlation and reply subject.</summary>
    /// <param name="Start">Where the frame starts in the scratch item (the item's header is everything before it).</param>
    /// <param name="Length">The frame's length.</param>
    /// <param name="Names">Where its names lie, which may be replaced by <see cref="Frame.SameName"/>.</param>
    /// <param name="Node">Its sender node name.</param>
    /// <param name="Contract">Its contract name.</param>
    internal readonly record struct Encoded(int Start, int Length, NameSpans Names, string? Node, string? Contract);

    /// <summary>One frame inside a segment.</summary>
    /// <param name="FrameStart">Where the frame's own bytes start in <see cref="Segment.Buffer"/>.</param>
    /// <param name="FrameLength">How many bytes the frame has.</param>
    /// <param name="Subject">Where the frame goes when it travels alone (null: <see cref="ReplyBase"/> and the correlation).</param>
    /// <param name="ReplyTo">Its NATS reply subject (a request's), or null.</param>
    /// <param name="Correlation">The correlation it answers (a reply) or awaits (a request), or 0.</param>
    /// <param name="Pending">The request it carries, if any (failed if publishing fails).</param>
    internal readonly record struct Item(int FrameStart, int FrameLength, string? Subject, string? ReplyTo, long Correlation, PendingRemote? Pending);

    /// <summary>
    /// A growing buffer of batch items, laid out as a batch frame from the start (a fixed 7-byte header, patched when it
    /// is published), so publishing it is a single write; a segment of one item is published as that item's frame alone.
    /// </summary>
    internal sealed class Segment : IBufferWriter<byte>
    {
        public byte[] Buffer { get; private set; } = new byte[4096];

        public int Length { get; set; }

        public List<Item> Items { get; } = [];

        /// <summary>The bytes its items added to the outbox's queue (see <see cref="Outbox.QueuedBytes"/>), given back when it is taken.</summary>
        public int Queued { get; set; }

        /// <summary>The most bytes <see cref="AppendItem"/> adds to an item for its frame's binary header (bin32).</summary>
        public const int MaxBinaryHeader = 5;

        /// <summary>The last item's sender node name, when the next item may refer to it (<see cref="Frame.SameName"/>).</summary>
        private string? _lastNode;

        /// <summary>The last item's contract name, when the next item may refer to it.</summary>
        private string? _lastContract;

        /// <summary>True when one of the frames is a request.</summary>
        public bool HasRequests
        {
            get
            {
                foreach (Item item in Items)
                {
                    if (item.Pending is not null)
                    {
                        return true;
                    }
                }

                return false;
            }
        }

        public void Start()
        {
            Length = Frame.BatchHeaderBytes;
        }

        public void Clear()
        {
            Items.Clear();
            Length = 0;
            Queued = 0;
            _lastNode = _lastContract = null;
        }

        /// <summary>
        /// Copies one batch item in: its header from <paramref name="item"/>, the frame's binary header (in its shortest
        /// form) and the frame, with each name that the item before it in this segment had too replaced by
        /// <see cref="Frame.SameName"/>. The first item is never changed: a segment of one is published as that frame alone.
        /// </summary>
        /// <returns>Where the frame starts in <see cref="Buffer"/>; <paramref name="length"/> is its length here.</returns>
        public int AppendItem(ReadOnlySpan<byte> item, in Encoded encoded, out int length)
        {
            NameSpans names = encoded.Names;
            bool sameNode = names.NodeLength > 1 && Items.Count > 0 && _lastNode is not null && string.Equals(_lastNode, encoded.Node, StringComparison.Ordinal);
            bool sameContract = names.ContractLength > 1 && Items.Count > 0 && _lastContract is not null && string.Equals(_lastContract, encoded.Contract, StringComparison.Ordinal);

            ReadOnlySpan<byte> frame = item.Slice(encoded.Start, encoded.Length);
            length = encoded.Length - (sameNode ? names.NodeLength - 1 : 0) - (sameContract ? names.ContractLength - 1 : 0);
            int header = length <= byte.MaxValue ? 2 : length <= ushort.MaxValue ? 3 : 5;
            int at = Reserve(encoded.Start + header + length);
            Span<byte> to = Buffer.AsSpan(at, encoded.Start + header + length);
            item[..encoded.Start].CopyTo(to);
            to = to[encoded.Start..];
            switch (header)
            {
                case 2:
                    to[0] = 0xC4;
                    to[1] = (byte)length;
                    break;
                case 3:
                    to[0] = 0xC5;
                    BinaryPrimitives.WriteUInt16BigEndian(to[1..], (ushort)length);
                    break;
                default:
                    to[0] = 0xC6;
                    BinaryPrimitives.WriteInt32BigEndian(to[1..], length);
                    break;
            }

            to = to[header..];
            int from = 0;
            if (sameNode)
            {
                from = Replace(frame, from, names.NodeAt, names.NodeLength, ref to);
            }

            if (sameContract)
            {
                from = Replace(frame, from, names.ContractAt, names.ContractLength, ref to);
            }

            frame[from..].CopyTo(to);

            // Only now that the item is in: what the next item may refer to.
            _lastNode = names.NodeLength > 0 ? encoded.Node : null;
            _lastContract = names.ContractLength > 0 ? encoded.Contract : null;
            return at + encoded.Start + header;
        }

        /// <summary>Copies <paramref name="frame"/> from <paramref name="from"/> up to a name, then the marker in the name's place.</summary>
        /// <returns>Where the frame goes on after the name.</returns>
        private static int Replace(ReadOnlySpan<byte> frame, int from, int nameAt, int nameLength, ref Span<byte> to)
        {
            int before = nameAt - from;
            frame.Slice(from, before).CopyTo(to);
            to[before] = Frame.SameName;
            to = to[(before + 1)..];
            return nameAt + nameLength;
        }

        /// <summary>The item's frame alone.</summary>
        public ReadOnlyMemory<byte> FrameOf(in Item item) => Buffer.AsMemory(item.FrameStart, item.FrameLength);

        /// <summary>The whole segment as one batch frame (the header is written now).</summary>
        public ReadOnlyMemory<byte> AsBatch()
        {
            Frame.WriteBatchHeader(Buffer, Items.Count);
            return Buffer.AsMemory(0, Length);
        }

        /// <summary>Reserves <paramref name="count"/> bytes; returns where they start.</summary>
        public int Reserve(int count)
        {
            Ensure(count);
            int at = Length;
            Length += count;
            return at;
        }

        public void Advance(int count) => Length += count;

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            Ensure(Math.Max(sizeHint, 256));
            return Buffer.AsMemory(Length);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            Ensure(Math.Max(sizeHint, 256));
            return Buffer.AsSpan(Length);
        }

        private void Ensure(int count)
        {
            if (Buffer.Length - Length < count)
            {
                byte[] larger = new byte[Math.Max(Buffer.Length * 2, Length + count)];
                Buffer.AsSpan(0, Length).CopyTo(larger);
                Buffer = larger;
            }
        }
    }
}
