using MessagePack;
using Tether.Nats.Internal;

namespace Tether.Nats.Tests;

/// <summary>
/// The envelope's own reader (<see cref="WireReader"/>) against MessagePack's writer: every encoding a writer may choose
/// reads back the same, and every damaged frame is a <see cref="WireException"/>, never another exception.
/// </summary>
public sealed class WireCodecTests
{
    private static readonly MessagePackSerializerOptions s_options = MessagePackSerializerOptions.Standard
        .WithResolver(MessagePack.Resolvers.ContractlessStandardResolver.Instance)
        .WithSecurity(MessagePackSecurity.UntrustedData); // as on the wire
    private static readonly PayloadCodec s_codec = PayloadCodec.Create(typeof(Sample), s_options, "test.sample");

    private static readonly long[] s_widths = [0, 1, 127, 128, 255, 256, 65_535, 65_536, int.MaxValue, uint.MaxValue, long.MaxValue, -1, -32, -33, -128, -129, -32_768, -32_769, int.MinValue, long.MinValue];

    public static TheoryData<long> Integers
    {
        get
        {
            var data = new TheoryData<long>();
            foreach (long value in s_widths)
            {
                data.Add(value);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Integers))]
    public void Header_IntegersOfEveryWidth_ReadBackTheSame(long value)
    {
        var frame = new Frame { Kind = FrameKind.Send, SenderNode = "alpha", SenderId = value, RecipientId = value, Contract = "test.sample", Flag = value };

        int payloadAt = Frame.DecodeHeader(frame.Encode(null, null), out Frame read);

        Assert.Equal(value, read.SenderId);
        Assert.Equal(value, read.RecipientId);
        Assert.Equal(value, read.Flag);
        Assert.True(payloadAt > 0);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(65_535)]
    [InlineData(65_536)]
    public void Header_StringsOfEveryLength_ReadBackTheSame(int length)
    {
        string text = new('é', length / 2); // two UTF-8 bytes each
        var frame = new Frame { Kind = FrameKind.Error, SenderNode = "alpha", ErrorCode = "code", ErrorText = text + new string('x', length % 2), TraceParent = text };

        Frame read = Frame.DecodeHeader(frame.Encode(null, null));

        Assert.Equal(frame.ErrorText, read.ErrorText);
        Assert.Equal(text, read.TraceParent);
        Assert.Equal("alpha", read.SenderNode);
        Assert.Null(read.Contract);
    }

    [Fact]
    public void Frame_WithPreEncodedNames_IsTheSameBytesAsWithoutThem()
    {
        var plain = new Frame { Kind = FrameKind.Request, SenderNode = "alpha", SenderId = 7, RecipientId = 9, Contract = "test.sample" };
        Frame cached = plain;
        cached.SenderNodeEncoded = MessagePackSerializer.Serialize("alpha");
        cached.ContractEncoded = s_codec.ContractEncoded;
        var sample = new Sample("hello", 42, [1, 2, 3]);

        byte[] bytes = cached.Encode(s_codec, sample);

        Assert.Equal(plain.Encode(s_codec, sample), bytes);
        int payloadAt = Frame.DecodeHeader(bytes, out Frame read);
        Assert.Equal(("alpha", 7L, 9L, "test.sample"), (read.SenderNode, read.SenderId, read.RecipientId, read.Contract));
        Assert.Equal(sample.Text, Assert.IsType<Sample>(Frame.ReadPayload(bytes, payloadAt, s_codec)).Text);
    }

    [Fact]
    public void Frame_EveryTruncation_IsAWireException()
    {
        byte[] whole = new Frame { Kind = FrameKind.Send, SenderNode = "alpha", SenderId = 300, RecipientId = 70_000, Contract = "test.sample", TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" }
            .Encode(s_codec, new Sample("text", -5, new byte[40]));

        for (int length = 0; length < whole.Length; length++)
        {
            byte[] cut = whole[..length];
            Assert.Throws<WireException>(() => Open(cut));
        }

        Assert.IsType<Sample>(Open(whole));
    }

    [Fact]
    public void Frame_RandomDamage_IsReadOrAWireExceptionNeverAnythingElse()
    {
        byte[] whole = new Frame { Kind = FrameKind.Request, SenderNode = "alpha", SenderId = 1, RecipientId = 2, Contract = "test.sample" }
            .Encode(s_codec, new Sample("text", 5, new byte[8]));

        int rejected = Rejections(whole, bytes => Open(bytes), seed: 20261125, truncateToo: false);

        Assert.True(rejected > 1_000, $"only {rejected} of 20,000 damaged frames were rejected");
    }

    [Fact]
    public void Batch_RandomDamage_IsReadOrAWireExceptionNeverAnythingElse()
    {
        byte[] Item(int n) => new Frame { Kind = FrameKind.Send, SenderNode = "alpha", SenderId = n, RecipientId = 2, Contract = "test.sample" }
            .Encode(s_codec, new Sample("text", n, new byte[n]));
        byte[] whole = Frame.EncodeBatch([(0, null, Item(1)), (7, "tether.default.reply.alpha.7", Item(2)), (0, null, Item(3))]);
        Assert.Equal(3, ReadBatch(whole));

        int rejected = Rejections(whole, bytes => ReadBatch(bytes), seed: 20261126, truncateToo: true);

        Assert.True(rejected > 1_000, $"only {rejected} of 20,000 damaged batches were rejected");
    }

    [Fact]
    public void OutboxBatch_RandomDamage_IsReadOrAWireExceptionNeverAnythingElse()
    {
        byte[] whole = OutboxBatch([.. Enumerable.Range(1, 4).Select(n => Named(n, "alpha", s_codec))], out int plainLength);
        Assert.Equal(3 * (5 + 11), plainLength - whole.Length); // the three frames after the first refer to its names
        Assert.Equal(4, ReadBatch(whole));

        int rejected = Rejections(whole, bytes => ReadBatch(bytes), seed: 20261127, truncateToo: true);

        Assert.True(rejected > 1_000, $"only {rejected} of 20,000 damaged batches were rejected");
    }

    [Fact]
    public void OutboxBatch_NamesRepeatedFromTheFrameBefore_AreWrittenOnce_AndReadBackTheSame()
    {
        PayloadCodec other = PayloadCodec.Create(typeof(Sample), s_options, "test.other-sample");
        var frames = new List<Frame>();
        foreach (long value in s_widths)
        {
            frames.Add(Named(value, "alpha", s_codec)); // same names as the one before, ids of every width
        }

        frames.Add(Named(5, "alpha", other)); // another contract: written in full, then referred to
        frames.Add(Named(6, "alpha", other));
        frames.Add(Named(7, null, other)); // no sender (a request from outside the runtime): nil, the contract referred to
        frames.Add(new Frame { Kind = FrameKind.Send, SenderNode = "beta", SenderId = 8, Contract = "test.other-sample" }); // not pre-encoded: in full
        frames.Add(Named(9, "alpha", s_codec));

        byte[] batch = OutboxBatch(frames, out int plainLength);

        var reader = new WireReader(batch);
        var names = new BatchNames();
        Assert.Equal(frames.Count, Frame.DecodeBatchHeader(ref reader));
        for (int i = 0; i < frames.Count; i++)
        {
            Frame.DecodeBatchItem(ref reader, batch, out long correlation, out _, out ReadOnlyMemory<byte> bytes);
            names.Next();
            int payloadAt = Frame.DecodeHeader(bytes.Span, out Frame read, names);
            Frame sent = frames[i];
            Assert.Equal((sent.SenderNode, sent.SenderId, sent.RecipientId, sent.Contract, (long)i), (read.SenderNode, read.SenderId, read.RecipientId, read.Contract, correlation));
            Assert.Equal((int)sent.Flag, Assert.IsType<Sample>(Frame.ReadPayload(bytes, payloadAt, s_codec)).Number);
        }

        // Each reference saves the name's bytes but one: 19 frames of every id width refer to "alpha" and "test.sample"
        // (19 x (5 + 11)); then "alpha" twice (2 x 5), "test.other-sample" twice (2 x 17); "beta" and what follows it are in full.
        Assert.Equal((19 * (5 + 11)) + (2 * 5) + (2 * 17), plainLength - batch.Length);
    }

    [Fact]
    public void SameName_OutsideABatch_OrAfterAFrameNotRead_IsAWireExceptionSayingSo()
    {
        byte[] batch = OutboxBatch([Named(1, "alpha", s_codec), Named(2, "alpha", s_codec)], out _);
        var reader = new WireReader(batch);
        Frame.DecodeBatchHeader(ref reader);
        Frame.DecodeBatchItem(ref reader, batch, out _, out _, out ReadOnlyMemory<byte> first);
        Frame.DecodeBatchItem(ref reader, batch, out _, out _, out ReadOnlyMemory<byte> second);
        var names = new BatchNames();

        string alone = Assert.Throws<WireException>(() => Frame.DecodeHeader(second.Span, out _)).Message;
        names.Next(); // the first item is skipped (as when it cannot be read)
        names.Next();
        string afterSkipped = Assert.Throws<WireException>(() => Frame.DecodeHeader(second.Span, out _, names)).Message;

        Assert.Contains("name at byte 3 refers to a previous frame, which only a frame in a batch of version 2 may do", alone, StringComparison.Ordinal);
        Assert.Contains("refers to the previous frame of the batch, which was not read", afterSkipped, StringComparison.Ordinal);
        Assert.Equal("alpha", Frame.DecodeHeader(first.Span).SenderNode);
    }

    /// <summary>A frame with pre-encoded names, as the proxy sends it; <paramref name="value"/> is its ids, its flag and its payload's number.</summary>
    private static Frame Named(long value, string? node, PayloadCodec codec) => new()
    {
        Kind = FrameKind.Request,
        SenderNode = node,
        SenderNodeEncoded = node is null ? null : MessagePackSerializer.Serialize(node),
        SenderId = value,
        RecipientId = value,
        Contract = codec.Contract,
        ContractEncoded = codec.ContractEncoded,
        Flag = (int)value,
    };

    /// <summary>A batch as an outbox writes it (item i has correlation i); <paramref name="plainLength"/> is its length with every name in full.</summary>
    private static byte[] OutboxBatch(IReadOnlyList<Frame> frames, out int plainLength)
    {
        var segment = new Outbox.Segment();
        segment.Start();
        var scratch = new Outbox.Segment();
        var plain = new List<(long, string?, byte[])>();
        for (int i = 0; i < frames.Count; i++)
        {
            var payload = new Sample("text", (int)frames[i].Flag, [1, 2, 3]);
            Outbox.Encoded encoded = Outbox.EncodeItem(scratch, frames[i], s_codec, payload, i, null);
            int start = segment.AppendItem(scratch.Buffer.AsSpan(0, scratch.Length), encoded, out int length);
            segment.Items.Add(new Outbox.Item(start, length, null, null, i, null));
            plain.Add((i, null, frames[i].Encode(s_codec, payload)));
        }

        plainLength = Frame.EncodeBatch(plain).Length;
        return segment.AsBatch().ToArray();
    }

    [Fact]
    public void Batch_OfVersion1_IsReadWithoutReferences_OfAnUnknownVersionRefusedForItsVersion()
    {
        byte[] batch = Frame.EncodeBatch([(0, null, Named(1, "alpha", s_codec).Encode(s_codec, new Sample("text", 1, [])))]);
        var current = new WireReader(batch);
        Assert.Equal(1, Frame.DecodeBatchHeader(ref current, out bool namesReferred));
        Assert.True(namesReferred);

        batch[5] = 1; // what nodes of the first release write: every name in full
        var first = new WireReader(batch);
        Assert.Equal(1, Frame.DecodeBatchHeader(ref first, out namesReferred));
        Assert.False(namesReferred);

        batch[5] = 3;
        Assert.True(Frame.IsBatch(batch));
        string why = Assert.Throws<WireException>(() =>
        {
            var reader = new WireReader(batch);
            Frame.DecodeBatchHeader(ref reader);
        }).Message;
        Assert.Equal("batch version 3 is not supported (this node reads 1 and 2)", why);
    }

    [Fact]
    public void Header_HostileValues_AreRejectedWithWhatAndWhere()
    {
        // An array of 11 whose version is a string; a frame kind out of range; a node name that is no subject token.
        byte[] versionIsText = [0x9B, 0xA1, (byte)'1'];
        byte[] unknownKind = new Frame { Kind = (FrameKind)99, SenderNode = "alpha" }.Encode(null, null);
        byte[] badNode = new Frame { Kind = FrameKind.Send, SenderNode = "al.pha" }.Encode(null, null);
        byte[] hugeString = [0x9B, Frame.Version, 0x01, 0xDB, 0xFF, 0xFF, 0xFF, 0xFF];

        Assert.Contains("expected an integer at byte 1", Assert.Throws<WireException>(() => Frame.DecodeHeader(versionIsText)).Message, StringComparison.Ordinal);
        Assert.Contains("kind 99", Assert.Throws<WireException>(() => Frame.DecodeHeader(unknownKind)).Message, StringComparison.Ordinal);
        Assert.Contains("node name", Assert.Throws<WireException>(() => Frame.DecodeHeader(badNode)).Message, StringComparison.Ordinal);
        Assert.Contains("out of range", Assert.Throws<WireException>(() => Frame.DecodeHeader(hugeString)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Frame_WithoutSession_IsWrittenAsBefore_WithOneReadsItBack()
    {
        var plain = new Frame { Kind = FrameKind.Request, SenderNode = "alpha", SenderId = 7, RecipientId = 9, Contract = "test.sample" };
        Frame withSession = plain;
        withSession.Session = "eyJ.token.sig";
        var sample = new Sample("hello", 42, [1, 2, 3]);

        byte[] without = plain.Encode(s_codec, sample);
        byte[] with = withSession.Encode(s_codec, sample);

        Assert.Equal(0x9B, without[0]); // 11 fields, as every node of an earlier release writes and reads
        Assert.Equal(0x9C, with[0]);
        Assert.Null(Frame.DecodeHeader(without).Session);
        int payloadAt = Frame.DecodeHeader(with, out Frame read);
        Assert.Equal("eyJ.token.sig", read.Session);
        Assert.Equal(("alpha", 7L, 9L, "test.sample"), (read.SenderNode, read.SenderId, read.RecipientId, read.Contract));
        Assert.Equal(42, Assert.IsType<Sample>(Frame.ReadPayload(with, payloadAt, s_codec)).Number);
    }

    [Fact]
    public void Frame_AnOlderElevenFieldFrame_ReadsWithoutSession()
    {
        // Written field by field as a node of an earlier release (or a stored durable event) has it.
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(11);
        writer.Write(Frame.Version);
        writer.Write((byte)FrameKind.Event);
        writer.Write("alpha");
        writer.Write(3L);
        writer.Write(0L);
        writer.Write("test.sample");
        writer.WriteNil();
        writer.WriteNil();
        writer.WriteNil();
        writer.Write(0L);
        MessagePackSerializer.Serialize(ref writer, new Sample("old", 1, []), s_options);
        writer.Flush();
        byte[] bytes = buffer.WrittenSpan.ToArray();

        int payloadAt = Frame.DecodeHeader(bytes, out Frame read);

        Assert.Null(read.Session);
        Assert.Equal(FrameKind.Event, read.Kind);
        Assert.Equal("old", Assert.IsType<Sample>(Frame.ReadPayload(bytes, payloadAt, s_codec)).Text);
    }

    [Fact]
    public void Frame_SessionInABatch_KeepsItsOwnTokenBesideNamesReferredTo()
    {
        Frame first = Named(1, "alpha", s_codec);
        first.Session = "tok-a";
        Frame second = Named(2, "alpha", s_codec); // no session, same names: referred to
        Frame third = Named(3, "alpha", s_codec);
        third.Session = "tok-b";

        byte[] batch = OutboxBatch([first, second, third], out int plainLength);

        Assert.Equal(2 * (5 + 11), plainLength - batch.Length);
        var reader = new WireReader(batch);
        var names = new BatchNames();
        Assert.Equal(3, Frame.DecodeBatchHeader(ref reader));
        var sessions = new List<string?>();
        for (int i = 0; i < 3; i++)
        {
            Frame.DecodeBatchItem(ref reader, batch, out _, out _, out ReadOnlyMemory<byte> bytes);
            names.Next();
            int payloadAt = Frame.DecodeHeader(bytes.Span, out Frame read, names);
            sessions.Add(read.Session);
            Assert.Equal(i + 1, Assert.IsType<Sample>(Frame.ReadPayload(bytes, payloadAt, s_codec)).Number);
        }

        Assert.Equal(["tok-a", null, "tok-b"], sessions);
    }

    [Fact]
    public void Frame_DamagedSession_IsAWireExceptionNamingTheSession()
    {
        var frame = new Frame { Kind = FrameKind.Send, SenderNode = "alpha", SenderId = 1, RecipientId = 2, Contract = "test.sample", Session = "tok" };
        byte[] whole = frame.Encode(s_codec, new Sample("x", 1, []));
        int at = Array.IndexOf(whole, (byte)0xA3); // the session's fixstr header ("tok")
        Assert.True(at > 0);

        byte[] notAString = (byte[])whole.Clone();
        notAString[at] = 0x05; // an integer where the token should be
        byte[] badUtf8 = (byte[])whole.Clone();
        badUtf8[at + 1] = 0xFF;
        frame.Session = new string('t', Frame.MaxSessionBytes + 1);
        byte[] tooLong = frame.Encode(s_codec, new Sample("x", 1, []));
        frame.Session = new string('t', Frame.MaxSessionBytes);
        byte[] longest = frame.Encode(s_codec, new Sample("x", 1, []));

        Assert.Contains("session token", Assert.Throws<WireException>(() => Frame.DecodeHeader(notAString)).Message, StringComparison.Ordinal);
        Assert.Contains("not valid UTF-8", Assert.Throws<WireException>(() => Frame.DecodeHeader(badUtf8)).Message, StringComparison.Ordinal);
        Assert.Contains($"more than the {Frame.MaxSessionBytes} allowed", Assert.Throws<WireException>(() => Frame.DecodeHeader(tooLong)).Message, StringComparison.Ordinal);
        Assert.Equal(Frame.MaxSessionBytes, Frame.DecodeHeader(longest).Session!.Length);
        for (int length = at; length < whole.Length; length++)
        {
            byte[] cut = whole[..length];
            Assert.Throws<WireException>(() => Open(cut));
        }
    }

    [Fact]
    public void Frame_SameSessionTwice_IsOneString_AnotherIsItsOwn()
    {
        var frame = new Frame { Kind = FrameKind.Send, SenderNode = "alpha", Contract = "test.sample", Session = "tok-same" };
        byte[] bytes = frame.Encode(null, null);
        frame.Session = "tok-other";
        byte[] other = frame.Encode(null, null);

        string? first = Frame.DecodeHeader(bytes).Session;
        string? again = Frame.DecodeHeader(bytes).Session;
        string? different = Frame.DecodeHeader(other).Session;

        Assert.Same(first, again);
        Assert.Equal("tok-other", different);
    }

    [Fact]
    public void Frame_RandomDamageWithSession_IsReadOrAWireExceptionNeverAnythingElse()
    {
        byte[] whole = new Frame { Kind = FrameKind.Request, SenderNode = "alpha", SenderId = 1, RecipientId = 2, Contract = "test.sample", Session = "eyJhbGciOi.payload.signature" }
            .Encode(s_codec, new Sample("text", 5, new byte[8]));

        int rejected = Rejections(whole, bytes => Open(bytes), seed: 20261203, truncateToo: true);

        Assert.True(rejected > 1_000, $"only {rejected} of 20,000 damaged frames were rejected");
    }

    /// <summary>
    /// Damages <paramref name="whole"/> 20,000 times (1 to 3 random bytes; a quarter also cut short when
    /// <paramref name="truncateToo"/>) and reads each; returns how many were rejected. Anything but a
    /// <see cref="WireException"/> fails the test.
    /// </summary>
    private static int Rejections(byte[] whole, Func<byte[], object?> read, int seed, bool truncateToo)
    {
        var random = new Random(seed);
        int rejected = 0;
        for (int round = 0; round < 20_000; round++)
        {
            byte[] damaged = (byte[])whole.Clone();
            for (int hits = random.Next(1, 4); hits > 0; hits--)
            {
                damaged[random.Next(damaged.Length)] = (byte)random.Next(256);
            }

            try
            {
                read(truncateToo && random.Next(4) == 0 ? damaged[..random.Next(damaged.Length)] : damaged);
            }
            catch (WireException)
            {
                rejected++;
            }
        }

        return rejected;
    }

    /// <summary>Reads a batch as the proxy does: its header, each item, each item's frame and payload; returns the item count.</summary>
    private static int ReadBatch(byte[] bytes)
        => Frame.IsBatch(bytes)
            ? PublishedFrames.Read(bytes, (in Frame _, ReadOnlyMemory<byte> frame, int payloadAt) => Frame.ReadPayload(frame, payloadAt, s_codec))
            : throw new WireException("not a batch");

    private static object? Open(byte[] bytes)
    {
        int payloadAt = Frame.DecodeHeader(bytes, out _);
        return Frame.ReadPayload(bytes, payloadAt, s_codec);
    }

    /// <summary>A contractless payload (public: the contractless resolver needs it).</summary>
    public sealed record Sample(string Text, int Number, byte[] Data);
}
