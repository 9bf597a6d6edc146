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

    public static TheoryData<long> Integers => [0, 1, 127, 128, 255, 256, 65_535, 65_536, int.MaxValue, uint.MaxValue, long.MaxValue, -1, -32, -33, -128, -129, -32_768, -32_769, int.MinValue, long.MinValue];

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
    public void Header_HostileValues_AreRejectedWithWhatAndWhere()
    {
        // An array of 11 whose version is a string; a frame kind out of range; a node name that is no subject token.
        byte[] versionIsText = [0x9B, 0xA1, (byte)'1'];
        byte[] unknownKind = new Frame { Kind = (FrameKind)99, SenderNode = "alpha" }.Encode(null, null);
        byte[] badNode = new Frame { Kind = FrameKind.Send, SenderNode = "al.pha" }.Encode(null, null);
        byte[] hugeString = [0x9B, 0x01, 0x01, 0xDB, 0xFF, 0xFF, 0xFF, 0xFF];

        Assert.Contains("expected an integer at byte 1", Assert.Throws<WireException>(() => Frame.DecodeHeader(versionIsText)).Message, StringComparison.Ordinal);
        Assert.Contains("kind 99", Assert.Throws<WireException>(() => Frame.DecodeHeader(unknownKind)).Message, StringComparison.Ordinal);
        Assert.Contains("node name", Assert.Throws<WireException>(() => Frame.DecodeHeader(badNode)).Message, StringComparison.Ordinal);
        Assert.Contains("out of range", Assert.Throws<WireException>(() => Frame.DecodeHeader(hugeString)).Message, StringComparison.Ordinal);
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
    {
        if (!Frame.IsBatch(bytes))
        {
            throw new WireException("not a batch");
        }

        var reader = new WireReader(bytes);
        int count = Frame.DecodeBatchHeader(ref reader);
        for (int i = 0; i < count; i++)
        {
            Frame.DecodeBatchItem(ref reader, bytes, out _, out _, out ReadOnlyMemory<byte> frame);
            int payloadAt = Frame.DecodeHeader(frame.Span, out _);
            Frame.ReadPayload(frame, payloadAt, s_codec);
        }

        return count;
    }

    private static object? Open(byte[] bytes)
    {
        int payloadAt = Frame.DecodeHeader(bytes, out _);
        return Frame.ReadPayload(bytes, payloadAt, s_codec);
    }

    /// <summary>A contractless payload (public: the contractless resolver needs it).</summary>
    public sealed record Sample(string Text, int Number, byte[] Data);
}
