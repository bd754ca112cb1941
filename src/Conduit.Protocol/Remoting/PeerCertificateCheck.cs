using System.Security.Cryptography.X509Certificates;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;

namespace Conduit.Protocol.Remoting;

/// <summary>
/// The one check every TLS peer passes: its certificate chains to one of our CA certificates (and nothing else: the
/// system's trusted roots play no part) and is valid now, and its role is one the <see cref="PeerPolicy"/> admits.
/// </summary>
public static class PeerCertificateCheck
{
    /// <summary>
    /// The callback for <see cref="DotNettySslSetup"/>. Akka calls it on the connecting side for the server's certificate
    /// and, with mutual authentication, on the accepting side for the client's. The <c>errors</c> the platform reports
    /// are set aside: it judged the chain against the system's roots (our private CA is not one of them, so it always
    /// reports a chain error) and the host name (which we do not check, see <see cref="TlsCredentials.SslSetup"/>).
    /// </summary>
    public static CertificateValidationCallback Validator(X509Certificate2Collection authorities, PeerPolicy peers) =>
        (certificate, _, peer, _, log) =>
        {
            if (Admits(certificate, authorities, peers, out var reason)) return true;
            log.Warning("TLS: refused peer {0}: {1}", peer, reason);
            return false;
        };

    /// <summary>Whether <paramref name="certificate"/> may talk to a system with <paramref name="peers"/>; if not, why.</summary>
    public static bool Admits(X509Certificate2? certificate, X509Certificate2Collection authorities, PeerPolicy peers, out string reason)
    {
        if (certificate is null)
        {
            reason = "it showed no certificate";
            return false;
        }
        if (!ChainsTo(certificate, authorities, out var why))
        {
            reason = $"its certificate ({certificate.Subject}, issued by {certificate.Issuer}) does not chain to the Conduit CA: {why}";
            return false;
        }
        var role = CertificateRoles.RoleOf(certificate);
        if (!peers.Admits(role))
        {
            reason = $"its certificate ({certificate.Subject}) is {(role is null ? "not a Conduit node or client certificate" : $"a {role.Value.ToString().ToLowerInvariant()} certificate")}, " +
                $"and this endpoint admits {(peers == PeerPolicy.NodesOnly ? "nodes only" : "nodes and clients")}";
            return false;
        }
        reason = "";
        return true;
    }

    /// <summary>Builds the chain of <paramref name="certificate"/> with <paramref name="authorities"/> as the only roots.</summary>
    public static bool ChainsTo(X509Certificate2 certificate, X509Certificate2Collection authorities, out string why)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        // A private CA publishes no revocation lists; rotation and expiry take their place (docs/tls.md).
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        // Never fetch issuers named in a peer's certificate (AIA): a stranger could make the node dial out mid-handshake.
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.NoFlag;
        chain.ChainPolicy.VerificationTime = DateTime.Now;
        if (chain.Build(certificate))
        {
            why = "";
            return true;
        }
        var problems = chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct().ToList();
        why = problems.Count > 0 ? string.Join("; ", problems) : "no chain to a trusted CA";
        return false;
    }
}
