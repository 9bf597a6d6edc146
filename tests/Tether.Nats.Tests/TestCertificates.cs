using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Tether.Nats.Tests;

/// <summary>
/// A throwaway CA and a server certificate for 127.0.0.1 (IP SAN), made at test time with <see cref="CertificateRequest"/>
/// and written as PEM files into a temporary directory that <see cref="Dispose"/> deletes. A second, unrelated CA
/// (<see cref="OtherCaFile"/>) serves as the CA a client wrongly trusts.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private readonly string _dir;

    private TestCertificates(string dir) => _dir = dir;

    /// <summary>The CA that signed the server certificate (PEM).</summary>
    public string CaFile => Path.Join(_dir, "ca.pem");

    /// <summary>A CA that did not sign the server certificate (PEM).</summary>
    public string OtherCaFile => Path.Join(_dir, "other-ca.pem");

    /// <summary>The server certificate for 127.0.0.1 (PEM).</summary>
    public string ServerCertFile => Path.Join(_dir, "server-cert.pem");

    /// <summary>The server's private key (PKCS#8 PEM).</summary>
    public string ServerKeyFile => Path.Join(_dir, "server-key.pem");

    public string Directory => _dir;

    public static TestCertificates Create()
    {
        var certs = new TestCertificates(System.IO.Directory.CreateTempSubdirectory("tether-tls-").FullName);
        try
        {
            DateTimeOffset now = DateTimeOffset.UtcNow;
            using ECDsa caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using X509Certificate2 ca = SelfSignedCa("Tether Test CA", caKey, now);
            File.WriteAllText(certs.CaFile, ca.ExportCertificatePem());

            using ECDsa otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using X509Certificate2 other = SelfSignedCa("Tether Test CA", otherKey, now); // same name, different key: trust must come from the key, not the name
            File.WriteAllText(certs.OtherCaFile, other.ExportCertificatePem());

            using ECDsa serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication")], false));
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build(true));
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
            byte[] serial = RandomNumberGenerator.GetBytes(16);
            serial[0] &= 0x7F; // a positive serial number
            using X509Certificate2 server = request.Create(ca, now.AddMinutes(-5), now.AddDays(1), serial);
            File.WriteAllText(certs.ServerCertFile, server.ExportCertificatePem());
            File.WriteAllText(certs.ServerKeyFile, serverKey.ExportPkcs8PrivateKeyPem());
            return certs;
        }
        catch
        {
            certs.Dispose();
            throw;
        }
    }

    private static X509Certificate2 SelfSignedCa(string name, ECDsa key, DateTimeOffset now)
    {
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
    }

    public void Dispose() => System.IO.Directory.Delete(_dir, recursive: true);
}
