using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Tether.Sessions;

/// <summary>
/// The ECDSA P-256 key ring of session tokens: at most one current signing key (the session manager's private key) and
/// any number of public keys that are accepted for verification (the current one's, and previous ones during a rotation).
/// Every token names the key that signed it (a key id), so a node verifies it with public keys only.
/// </summary>
/// <remarks>
/// Rotation: start the session manager with the new private key and the old key's public key as
/// <see cref="WithPublicKey(string)"/>, and give every node both public keys; tokens signed by the old key stay valid
/// until they expire, new ones are signed by the new key. Remove the old public key after the session lifetime has passed.
/// A key id is derived from the public key (the first 8 bytes of the SHA-256 of its SubjectPublicKeyInfo, base64url),
/// so nodes and the manager agree on it without configuration.
/// </remarks>
public sealed class SessionKeys
{
    private readonly Dictionary<string, VerifyKey> _verify;

    private SessionKeys(SigningKey? signing, Dictionary<string, VerifyKey> verify)
    {
        Signing = signing;
        _verify = verify;
    }

    /// <summary>The id of the current signing key, or null when this ring only verifies.</summary>
    public string? SigningKeyId => Signing?.KeyId;

    /// <summary>The ids of every key this ring accepts.</summary>
    public IReadOnlyCollection<string> KeyIds => _verify.Keys;

    internal SigningKey? Signing { get; }

    /// <summary>A ring that signs with the private key in <paramref name="privateKeyPem"/> (PEM, PKCS#8 or SEC1 "EC PRIVATE KEY").</summary>
    /// <exception cref="ArgumentException">The text holds no ECDSA P-256 private key.</exception>
    public static SessionKeys FromPrivateKeyPem(string privateKeyPem)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(privateKeyPem);
        ECDsa key = ECDsa.Create();
        try
        {
            key.ImportFromPem(privateKeyPem);
            EnsureP256(key, "the private key");
            _ = key.ExportParameters(includePrivateParameters: true);
        }
        catch (CryptographicException ex)
        {
            key.Dispose();
            throw new ArgumentException($"The session signing key is not a usable ECDSA P-256 private key in PEM: {ex.Message}", nameof(privateKeyPem), ex);
        }
        catch (ArgumentException ex)
        {
            key.Dispose();
            throw new ArgumentException($"The session signing key is not an ECDSA P-256 private key in PEM: {ex.Message}", nameof(privateKeyPem), ex);
        }

        byte[] spki = key.ExportSubjectPublicKeyInfo();
        var signing = new SigningKey(KeyIdOf(spki), key);
        return new SessionKeys(signing, new Dictionary<string, VerifyKey>(StringComparer.Ordinal) { [signing.KeyId] = new VerifyKey(signing.KeyId, spki) });
    }

    /// <summary>A ring that signs with the private key in the PEM file at <paramref name="path"/>.</summary>
    /// <exception cref="ArgumentException">The file does not exist or holds no ECDSA P-256 private key (the message names the path).</exception>
    public static SessionKeys FromPrivateKeyFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new ArgumentException($"The session signing key file {path} does not exist.", nameof(path));
        }

        try
        {
            return FromPrivateKeyPem(File.ReadAllText(path));
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"{path}: {ex.Message}", nameof(path), ex);
        }
    }

    /// <summary>A ring that only verifies, with the public key in <paramref name="publicKeyPem"/> (PEM "PUBLIC KEY").</summary>
    public static SessionKeys FromPublicKeyPem(string publicKeyPem)
        => new SessionKeys(null, new Dictionary<string, VerifyKey>(StringComparer.Ordinal)).WithPublicKey(publicKeyPem);

    /// <summary>A fresh random signing key (for tests and single-process use: tokens do not survive a restart).</summary>
    public static SessionKeys Generate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return FromPrivateKeyPem(key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>A copy of this ring that also accepts tokens signed by the key whose public half is <paramref name="publicKeyPem"/>.</summary>
    /// <exception cref="ArgumentException">The text holds no ECDSA P-256 public (or private) key.</exception>
    public SessionKeys WithPublicKey(string publicKeyPem)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(publicKeyPem);
        byte[] spki;
        try
        {
            using ECDsa key = ECDsa.Create();
            key.ImportFromPem(publicKeyPem);
            EnsureP256(key, "the public key");
            spki = key.ExportSubjectPublicKeyInfo();
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            throw new ArgumentException($"The session verification key is not an ECDSA P-256 key in PEM: {ex.Message}", nameof(publicKeyPem), ex);
        }

        string id = KeyIdOf(spki);
        var verify = new Dictionary<string, VerifyKey>(_verify, StringComparer.Ordinal) { [id] = new VerifyKey(id, spki) };
        return new SessionKeys(Signing, verify);
    }

    /// <summary>A copy of this ring that also accepts every key <paramref name="other"/> accepts.</summary>
    public SessionKeys WithPublicKeys(SessionKeys other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var verify = new Dictionary<string, VerifyKey>(_verify, StringComparer.Ordinal);
        foreach ((string id, VerifyKey key) in other._verify)
        {
            verify.TryAdd(id, key);
        }

        return new SessionKeys(Signing, verify);
    }

    /// <summary>The same ring without the private key: what a node that only verifies needs.</summary>
    public SessionKeys PublicOnly() => new(null, _verify);

    /// <summary>The current signing key's public half as PEM ("PUBLIC KEY"), to give to the nodes.</summary>
    /// <exception cref="InvalidOperationException">This ring has no signing key.</exception>
    public string ExportPublicKeyPem()
        => Signing is { } signing
            ? PemEncoding.WriteString("PUBLIC KEY", _verify[signing.KeyId].SubjectPublicKeyInfo)
            : throw new InvalidOperationException("This key ring has no signing key; it only verifies.");

    /// <summary>The current signing key as PEM (PKCS#8 "PRIVATE KEY"), to store in a secret.</summary>
    /// <exception cref="InvalidOperationException">This ring has no signing key.</exception>
    public string ExportPrivateKeyPem()
        => Signing?.ExportPem() ?? throw new InvalidOperationException("This key ring has no signing key; it only verifies.");

    internal bool TryGetVerifyKey(ReadOnlySpan<char> keyId, out VerifyKey key)
    {
        Dictionary<string, VerifyKey>.AlternateLookup<ReadOnlySpan<char>> lookup = _verify.GetAlternateLookup<ReadOnlySpan<char>>();
        return lookup.TryGetValue(keyId, out key!);
    }

    private static void EnsureP256(ECDsa key, string what)
    {
        ECParameters parameters = key.ExportParameters(includePrivateParameters: false);
        if (!parameters.Curve.IsNamed || parameters.Curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
        {
            throw new ArgumentException($"{what} is not on the P-256 curve ({parameters.Curve.Oid.FriendlyName ?? parameters.Curve.Oid.Value ?? "an explicit curve"}).");
        }
    }

    private static string KeyIdOf(byte[] spki) => Convert.ToBase64String(SHA256.HashData(spki), 0, 8).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The private key; ECDsa instances are not guaranteed thread-safe, so signing takes a lock (signing is rare: logins and renewals).</summary>
    internal sealed class SigningKey(string keyId, ECDsa key)
    {
        private readonly Lock _lock = new();

        public string KeyId { get; } = keyId;

        public int Sign(ReadOnlySpan<byte> data, Span<byte> signature)
        {
            lock (_lock)
            {
                return key.SignData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
            }
        }

        public string ExportPem()
        {
            lock (_lock)
            {
                return key.ExportPkcs8PrivateKeyPem();
            }
        }
    }

    /// <summary>A public key with a small pool of ECDsa instances, so that verifications on many threads do not share one.</summary>
    internal sealed class VerifyKey(string keyId, byte[] subjectPublicKeyInfo)
    {
        private readonly ConcurrentBag<ECDsa> _pool = [];

        public string KeyId { get; } = keyId;

        public byte[] SubjectPublicKeyInfo { get; } = subjectPublicKeyInfo;

        public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
        {
            if (!_pool.TryTake(out ECDsa? key))
            {
                key = ECDsa.Create();
                key.ImportSubjectPublicKeyInfo(SubjectPublicKeyInfo, out _);
            }

            try
            {
                return key.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
            }
            finally
            {
                if (_pool.Count < 16)
                {
                    _pool.Add(key);
                }
                else
                {
                    key.Dispose();
                }
            }
        }
    }
}
