using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Conduit.Protocol.Remoting;

/// <summary>
/// Where an ActorSystem's TLS material lives: its own certificate with private key (a <c>.pfx</c>) and the Conduit CA
/// it trusts (a <c>.pem</c>, which may hold several CA certificates while one CA replaces another). Nodes, clients and
/// the CLI all take these three values; <c>conduit certs create</c> makes the files.
/// </summary>
public sealed record TlsSettings
{
    /// <summary>This system's certificate and private key, PKCS#12 (<c>node.pfx</c>, <c>client-NAME.pfx</c>).</summary>
    public required string CertificatePath { get; init; }

    /// <summary>Password of <see cref="CertificatePath"/>. Defaults to null: the file has none (<c>conduit certs</c> default).</summary>
    public string? CertificatePassword { get; init; }

    /// <summary>The CA certificate(s) every peer must chain to, PEM (<c>ca.pem</c>).</summary>
    public required string CaPath { get; init; }

    /// <summary>
    /// TLS settings from three optional values (command line, environment, options): null when neither a certificate nor
    /// a CA is given (no TLS); <see cref="TlsSettingsException"/> when only one of the two is, since TLS needs both.
    /// <paramref name="certificateName"/> and <paramref name="caName"/> name the options in the message.
    /// </summary>
    public static TlsSettings? FromOptions(string? certificatePath, string? certificatePassword, string? caPath,
        string certificateName = "--tls-cert", string caName = "--tls-ca")
    {
        var hasCertificate = !string.IsNullOrWhiteSpace(certificatePath);
        var hasCa = !string.IsNullOrWhiteSpace(caPath);
        if (!hasCertificate && !hasCa)
        {
            return string.IsNullOrEmpty(certificatePassword)
                ? null
                : throw new TlsSettingsException($"a certificate password was given without {certificateName} and {caName}");
        }
        if (!hasCertificate) throw new TlsSettingsException($"TLS needs both {certificateName} (this side's .pfx) and {caName} (the CA's .pem): {certificateName} is missing");
        if (!hasCa) throw new TlsSettingsException($"TLS needs both {certificateName} (this side's .pfx) and {caName} (the CA's .pem): {caName} is missing");
        return new TlsSettings
        {
            CertificatePath = certificatePath!,
            CertificatePassword = string.IsNullOrEmpty(certificatePassword) ? null : certificatePassword,
            CaPath = caPath!,
        };
    }

    /// <summary>
    /// Reads and checks both files: they exist, the certificate opens with the password and has its private key, the CA
    /// file holds at least one CA certificate, the certificate chains to it and is valid now, and (when
    /// <paramref name="expectedRole"/> is given) it is that kind of certificate. Throws <see cref="TlsSettingsException"/>
    /// saying which file is wrong and why.
    /// </summary>
    public TlsCredentials Load(CertificateRole? expectedRole = null)
    {
        var authorities = LoadAuthorities();
        var certificate = LoadCertificate();
        try
        {
            if (!PeerCertificateCheck.ChainsTo(certificate, authorities, out var why))
                throw new TlsSettingsException($"certificate '{CertificatePath}' ({certificate.Subject}) does not chain to the CA in '{CaPath}': {why}");
            var role = CertificateRoles.RoleOf(certificate);
            if (role is null)
                throw new TlsSettingsException($"certificate '{CertificatePath}' ({certificate.Subject}) is not a Conduit certificate: its subject has neither OU={CertificateRoles.NodeUnit} nor OU={CertificateRoles.ClientUnit}");
            if (expectedRole is { } expected && role != expected)
                throw new TlsSettingsException($"certificate '{CertificatePath}' ({certificate.Subject}) is a {role.Value.ToString().ToLowerInvariant()} certificate; this needs a {expected.ToString().ToLowerInvariant()} certificate (OU={CertificateRoles.UnitOf(expected)}): make one with `conduit certs issue`");
            return new TlsCredentials(certificate, authorities);
        }
        catch
        {
            certificate.Dispose();
            throw;
        }
    }

    /// <summary>Runs <see cref="Load"/> and lets go of what it read: for checking options at start.</summary>
    public void Validate(CertificateRole? expectedRole = null) => Load(expectedRole).Dispose();

    private X509Certificate2 LoadCertificate()
    {
        if (!File.Exists(CertificatePath)) throw new TlsSettingsException($"certificate file '{CertificatePath}' does not exist");
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(CertificatePath, CertificatePassword);
        }
        catch (CryptographicException e)
        {
            throw new TlsSettingsException(
                $"certificate file '{CertificatePath}' is not a PKCS#12 (.pfx) file this password opens ({e.Message.TrimEnd('.')}); " +
                "check the file and the certificate password", e);
        }
        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new TlsSettingsException($"certificate file '{CertificatePath}' holds no private key: TLS needs the .pfx with the key, not the certificate alone");
        }
        return certificate;
    }

    private X509Certificate2Collection LoadAuthorities()
    {
        if (!File.Exists(CaPath)) throw new TlsSettingsException($"CA file '{CaPath}' does not exist");
        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(CaPath);
        }
        catch (CryptographicException e)
        {
            throw new TlsSettingsException($"CA file '{CaPath}' is not PEM certificates ({e.Message.TrimEnd('.')})", e);
        }
        if (authorities.Count == 0) throw new TlsSettingsException($"CA file '{CaPath}' holds no certificate (want PEM: -----BEGIN CERTIFICATE-----)");
        foreach (var authority in authorities)
        {
            if (authority.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is not { CertificateAuthority: true })
                throw new TlsSettingsException($"CA file '{CaPath}' holds {authority.Subject}, which is not a CA certificate (want ca.pem, not a node's certificate)");
        }
        return authorities;
    }
}

/// <summary>TLS settings that cannot work: a missing or unreadable file, a wrong password, a certificate from another CA.</summary>
public sealed class TlsSettingsException(string message, Exception? inner = null) : Exception(message, inner);
