using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Text;

namespace Tether.Sessions.Internal;

/// <summary>What a token says, once its signature holds.</summary>
internal sealed record TokenClaims(string KeyId, string SessionId, string UserId, string UserName, string[] Rights, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt)
{
    public SessionIdentity ToIdentity() => new(SessionId, UserId, UserName, Rights, ExpiresAt);
}

/// <summary>Why a token was not accepted by <see cref="TokenCodec.TryRead"/>.</summary>
internal enum TokenProblem
{
    None,
    Missing,
    Malformed,
    UnknownKey,
    BadSignature,
}

/// <summary>
/// The compact token format: <c>base64url(payload) "." base64url(signature)</c>. The payload is binary: version (1),
/// key id, session id, user id (each a byte length + UTF-8), user name (2-byte length + UTF-8), issued-at and expiry
/// (8-byte Unix milliseconds, big-endian), rights (a byte count, each a 2-byte length + UTF-8). The signature is ECDSA
/// P-256 over SHA-256 of the payload bytes, IEEE P1363 (64 bytes). See the project README for why not JWT.
/// </summary>
internal static class TokenCodec
{
    public const byte Version = 1;

    /// <summary>Longer tokens are refused before any decoding.</summary>
    public const int MaxTokenChars = 8192;

    private const int SignatureBytes = 64;

    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static string Write(SessionKeys.SigningKey key, string sessionId, string userId, string userName, IReadOnlyList<string> rights, DateTimeOffset issuedAt, DateTimeOffset expiresAt)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        buffer.Write([Version]);
        WriteShortString(buffer, key.KeyId);
        WriteShortString(buffer, sessionId);
        WriteShortString(buffer, userId);
        WriteString(buffer, userName);
        WriteInt64(buffer, issuedAt.ToUnixTimeMilliseconds());
        WriteInt64(buffer, expiresAt.ToUnixTimeMilliseconds());
        if (rights.Count > byte.MaxValue)
        {
            throw new ArgumentException($"A session carries at most {byte.MaxValue} rights; user {userName} has {rights.Count}.");
        }

        buffer.Write([(byte)rights.Count]);
        foreach (string right in rights)
        {
            WriteString(buffer, right);
        }

        Span<byte> signature = stackalloc byte[SignatureBytes];
        int written = key.Sign(buffer.WrittenSpan, signature);
        return Base64Url.EncodeToString(buffer.WrittenSpan) + "." + Base64Url.EncodeToString(signature[..written]);
    }

    /// <summary>
    /// Checks the token's form and signature against <paramref name="keys"/> and reads its claims. Never throws: any
    /// malformed input is a <see cref="TokenProblem"/>. With <paramref name="checkSignature"/> false it checks the form and
    /// that the key is one of <paramref name="keys"/>, but not the signature (the caller checks it later, see SessionVerifier).
    /// </summary>
    public static TokenProblem TryRead(string? token, SessionKeys keys, out TokenClaims? claims, bool checkSignature = true)
    {
        claims = null;
        if (string.IsNullOrEmpty(token))
        {
            return TokenProblem.Missing;
        }

        byte[]? rented = null;
        try
        {
            if (token.Length > MaxTokenChars)
            {
                return TokenProblem.Malformed;
            }

            int dot = token.IndexOf('.', StringComparison.Ordinal);
            if (dot <= 0 || dot == token.Length - 1 || token.IndexOf('.', dot + 1) >= 0)
            {
                return TokenProblem.Malformed;
            }

            ReadOnlySpan<char> payloadText = token.AsSpan(0, dot);
            ReadOnlySpan<char> signatureText = token.AsSpan(dot + 1);
            int payloadMax = Base64Url.GetMaxDecodedLength(payloadText.Length);
            Span<byte> payload = payloadMax <= 1024 ? stackalloc byte[1024] : (rented = ArrayPool<byte>.Shared.Rent(payloadMax));
            Span<byte> signature = stackalloc byte[SignatureBytes];
            if (Base64Url.GetMaxDecodedLength(signatureText.Length) < SignatureBytes
                || signatureText.Length > 86
                || !Base64Url.TryDecodeFromChars(signatureText, signature, out int signatureLength)
                || signatureLength != SignatureBytes
                || !Base64Url.TryDecodeFromChars(payloadText, payload, out int payloadLength))
            {
                return TokenProblem.Malformed;
            }

            payload = payload[..payloadLength];
            if (!TryParse(payload, out claims))
            {
                claims = null;
                return TokenProblem.Malformed;
            }

            if (!keys.TryGetVerifyKey(claims!.KeyId, out SessionKeys.VerifyKey key))
            {
                claims = null;
                return TokenProblem.UnknownKey;
            }

            if (checkSignature && !key.Verify(payload, signature))
            {
                claims = null;
                return TokenProblem.BadSignature;
            }

            return TokenProblem.None;
        }
#pragma warning disable CA1031 // a token is hostile input: whatever goes wrong reading it is a refusal, never an exception
        catch (Exception)
#pragma warning restore CA1031
        {
            claims = null;
            return TokenProblem.Malformed;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static bool TryParse(ReadOnlySpan<byte> payload, out TokenClaims? claims)
    {
        claims = null;
        int at = 0;
        if (payload.Length < 1 || payload[at++] != Version)
        {
            return false;
        }

        if (!TryReadShort(payload, ref at, out string? keyId)
            || !TryReadShort(payload, ref at, out string? sessionId)
            || !TryReadShort(payload, ref at, out string? userId)
            || !TryReadLong(payload, ref at, out string? userName)
            || !TryReadInt64(payload, ref at, out long issued)
            || !TryReadInt64(payload, ref at, out long expires)
            || at >= payload.Length)
        {
            return false;
        }

        int count = payload[at++];
        string[] rights = count == 0 ? [] : new string[count];
        for (int i = 0; i < count; i++)
        {
            if (!TryReadLong(payload, ref at, out string? right))
            {
                return false;
            }

            rights[i] = right!;
        }

        if (at != payload.Length || keyId!.Length == 0 || sessionId!.Length == 0 || userId!.Length == 0
            || expires is < 0 or > 253402300799999 || issued is < 0 or > 253402300799999)
        {
            return false;
        }

        claims = new TokenClaims(keyId, sessionId, userId, userName!, rights, DateTimeOffset.FromUnixTimeMilliseconds(issued), DateTimeOffset.FromUnixTimeMilliseconds(expires));
        return true;
    }

    private static bool TryReadShort(ReadOnlySpan<byte> payload, ref int at, out string? value)
    {
        value = null;
        if (at >= payload.Length)
        {
            return false;
        }

        int length = payload[at++];
        return TryReadBytes(payload, ref at, length, out value);
    }

    private static bool TryReadLong(ReadOnlySpan<byte> payload, ref int at, out string? value)
    {
        value = null;
        if (at + 2 > payload.Length)
        {
            return false;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(payload[at..]);
        at += 2;
        return TryReadBytes(payload, ref at, length, out value);
    }

    private static bool TryReadBytes(ReadOnlySpan<byte> payload, ref int at, int length, out string? value)
    {
        value = null;
        if (at + length > payload.Length)
        {
            return false;
        }

        value = s_utf8.GetString(payload.Slice(at, length)); // throws on invalid UTF-8: caught by TryRead
        at += length;
        return true;
    }

    private static bool TryReadInt64(ReadOnlySpan<byte> payload, ref int at, out long value)
    {
        value = 0;
        if (at + 8 > payload.Length)
        {
            return false;
        }

        value = BinaryPrimitives.ReadInt64BigEndian(payload[at..]);
        at += 8;
        return true;
    }

    private static void WriteShortString(ArrayBufferWriter<byte> buffer, string value)
    {
        int length = s_utf8.GetByteCount(value);
        if (length is 0 or > byte.MaxValue)
        {
            throw new ArgumentException($"A token id must have 1 to {byte.MaxValue} UTF-8 bytes; it has {length}.");
        }

        buffer.Write([(byte)length]);
        buffer.Write(s_utf8.GetBytes(value));
    }

    private static void WriteString(ArrayBufferWriter<byte> buffer, string value)
    {
        int length = s_utf8.GetByteCount(value);
        if (length > ushort.MaxValue)
        {
            throw new ArgumentException($"A token string must have at most {ushort.MaxValue} UTF-8 bytes; it has {length}.");
        }

        Span<byte> prefix = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(prefix, (ushort)length);
        buffer.Write(prefix);
        buffer.Write(s_utf8.GetBytes(value));
    }

    private static void WriteInt64(ArrayBufferWriter<byte> buffer, long value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        buffer.Write(bytes);
    }
}
