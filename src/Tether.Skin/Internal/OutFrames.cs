using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Tether.Skin.Internal;

/// <summary>The frames the server sends a renderer (see the README's view model).</summary>
internal static class OutFrames
{
    private static readonly byte[] s_ping = "{\"t\":\"ping\"}"u8.ToArray();

    public static byte[] Ping => s_ping;

    public static byte[] Welcome(string app, string start, string? resume, bool resumed) => Write(w =>
    {
        w.WriteString("t", "welcome");
        w.WriteString("app", app);
        w.WriteString("start", start);
        if (resume is not null)
        {
            w.WriteString("resume", resume);
        }

        w.WriteBoolean("resumed", resumed);
    });

    public static byte[] Opened(int id, string dialog, string? reference) => Write(w =>
    {
        w.WriteString("t", "opened");
        w.WriteNumber("d", id);
        w.WriteString("dialog", dialog);
        if (reference is not null)
        {
            w.WriteString("ref", reference);
        }
    });

    public static byte[] Closed(int id, string reason) => Write(w =>
    {
        w.WriteString("t", "closed");
        w.WriteNumber("d", id);
        w.WriteString("reason", reason);
    });

    public static byte[] Error(string code, string text, int dialog = 0, string? reference = null) => Write(w =>
    {
        w.WriteString("t", "error");
        w.WriteString("code", code);
        w.WriteString("text", text);
        if (dialog > 0)
        {
            w.WriteNumber("d", dialog);
        }

        if (reference is not null)
        {
            w.WriteString("ref", reference);
        }
    });

    /// <summary>{"t":"patch","d":ID,"ops":OPS}: the dialog's ops are spliced in as they came (the dialog wrote them).</summary>
    public static byte[] Patch(int id, string ops)
    {
        string head = $"{{\"t\":\"patch\",\"d\":{id},\"ops\":";
        int length = Encoding.UTF8.GetByteCount(head) + Encoding.UTF8.GetByteCount(ops) + 1;
        byte[] frame = new byte[length];
        int n = Encoding.UTF8.GetBytes(head, frame);
        n += Encoding.UTF8.GetBytes(ops, frame.AsSpan(n));
        frame[n] = (byte)'}';
        return frame;
    }

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
