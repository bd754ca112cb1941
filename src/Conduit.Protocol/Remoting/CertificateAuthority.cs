using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Conduit.Protocol.Remoting;

/// <summary>
/// A private Conduit CA and the certificates it issues (<c>conduit certs</c>, and tests): ECDSA P-256 keys, SHA-256
/// signatures. Node certificates are <c>OU=conduit-node</c> with serverAuth and clientAuth and a SAN per host; client
/// certificates are <c>OU=conduit-client</c> with clientAuth.
/// </summary>
public sealed class CertificateAuthority : IDisposable
{
    /// <summary>Default lifetime of the CA: 10 years.</summary>
    public const int DefaultCaDays = 3650;

    /// <summary>Default lifetime of node and client certificates: 1 year (renew them from the same CA; docs/tls.md).</summary>
    public const int DefaultDays = 365;

    private const string Organization = "Conduit";
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");

    private CertificateAuthority(X509Certificate2 certificate) => Certificate = certificate;

    /// <summary>The CA certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>
    /// A new CA valid for <paramref name="days"/> days. Its name carries the date and a random tag, so two CAs never
    /// share a subject (a certificate of one is then plainly not of the other, in logs too).
    /// </summary>
    public static CertificateAuthority Create(int days = DefaultCaDays)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(days, 1);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var tag = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var name = new X500DistinguishedName($"CN=Conduit CA {DateTime.UtcNow:yyyy-MM-dd} {tag}, O={Organization}");
        var request = new CertificateRequest(name, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = DateTimeOffset.UtcNow;
        return new CertificateAuthority(request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(days)));
    }

    /// <summary>An existing CA from its <c>ca.pfx</c> (certificate and key).</summary>
    public static CertificateAuthority Load(string pfxPath, string? password)
    {
        if (!File.Exists(pfxPath)) throw new TlsSettingsException($"CA file '{pfxPath}' does not exist");
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(pfxPath, password, X509KeyStorageFlags.Exportable);
        }
        catch (CryptographicException e)
        {
            throw new TlsSettingsException($"'{pfxPath}' is not a PKCS#12 file this password opens ({e.Message.TrimEnd('.')})", e);
        }
        if (!certificate.HasPrivateKey || certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is not { CertificateAuthority: true })
        {
            certificate.Dispose();
            throw new TlsSettingsException($"'{pfxPath}' is not a CA with its key (want the ca.pfx `conduit certs create` wrote)");
        }
        return new CertificateAuthority(certificate);
    }

    /// <summary>
    /// A node certificate: <c>CN=<paramref name="name"/>, OU=conduit-node</c>, serverAuth and clientAuth, with a SAN for
    /// each of <paramref name="hosts"/> (DNS names and IP addresses) plus <c>localhost</c>, 127.0.0.1 and ::1.
    /// </summary>
    public X509Certificate2 IssueNode(string name, IEnumerable<string> hosts, int days = DefaultDays)
    {
        var san = new SubjectAlternativeNameBuilder();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var host in hosts.Append("localhost").Append("127.0.0.1").Append("::1"))
        {
            if (string.IsNullOrWhiteSpace(host) || !seen.Add(host.Trim())) continue;
            if (IPAddress.TryParse(host.Trim(), out var ip)) san.AddIpAddress(ip);
            else san.AddDnsName(host.Trim());
        }
        return Issue(name, CertificateRole.Node, [ServerAuth, ClientAuth], san.Build(), days);
    }

    /// <summary>A client certificate: <c>CN=<paramref name="name"/>, OU=conduit-client</c>, clientAuth.</summary>
    public X509Certificate2 IssueClient(string name, int days = DefaultDays) => Issue(name, CertificateRole.Client, [ClientAuth], null, days);

    private X509Certificate2 Issue(string name, CertificateRole role, Oid[] usages, X509Extension? san, int days)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(days, 1);
        if (name.IndexOfAny([',', '=', '+', '"', '\\', '<', '>', ';']) >= 0)
            throw new ArgumentException($"certificate name '{name}' may not hold , = + \" \\ < > ;", nameof(name));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = new X500DistinguishedName($"CN={name}, OU={CertificateRoles.UnitOf(role)}, O={Organization}");
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([.. usages], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        if (san is not null) request.CertificateExtensions.Add(san);
        var now = DateTimeOffset.UtcNow;
        // A certificate cannot outlive its issuer.
        var notAfter = now.AddDays(days) < Certificate.NotAfter ? now.AddDays(days) : new DateTimeOffset(Certificate.NotAfter);
        using var issued = request.Create(Certificate, now.AddMinutes(-5), notAfter, RandomNumberGenerator.GetBytes(16));
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>The CA certificate as PEM (<c>ca.pem</c>): what every node, client and CLI trusts.</summary>
    public string ExportPem() => Certificate.ExportCertificatePem() + "\n";

    public void Dispose() => Certificate.Dispose();
}
