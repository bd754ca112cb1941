using System.Security.Cryptography.X509Certificates;
using Akka.Remote.Transport.DotNetty;

namespace Conduit.Protocol.Remoting;

/// <summary>
/// Loaded, checked TLS material (see <see cref="TlsSettings.Load"/>): this side's certificate with its key and the CA
/// certificates it trusts. Hands Akka the <see cref="DotNettySslSetup"/> for a <see cref="PeerPolicy"/>.
/// </summary>
public sealed class TlsCredentials : IDisposable
{
    internal TlsCredentials(X509Certificate2 certificate, X509Certificate2Collection authorities)
    {
        Certificate = certificate;
        Authorities = authorities;
    }

    /// <summary>This side's certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The CA certificate(s) peers must chain to.</summary>
    public X509Certificate2Collection Authorities { get; }

    /// <summary>
    /// Akka's TLS setup for an ActorSystem that admits <paramref name="peers"/>: mutual authentication (both sides show a
    /// certificate), and one check, run by Akka on connections this system accepts and on those it opens, that the
    /// peer's certificate chains to <see cref="Authorities"/> and has the role the policy admits.
    /// <para>
    /// Hostname validation stays off. Trust comes from the private CA and the role in the certificate, not from names:
    /// only this CA issues <c>OU=conduit-node</c>, so a peer holding a node certificate is a node whatever address it
    /// was reached at (seeds by IP, containers behind another name, public-hostname behind NAT). A name check would add
    /// nothing on connections a node accepts (Akka has no hostname for an inbound peer) and would break such setups on
    /// the ones it opens. Node certificates still carry their hosts as SANs, so it could be switched on later.
    /// </para>
    /// The system's HOCON must also say <c>enable-ssl = on</c>: <see cref="RemotingEndpoint.ToConfig"/> does.
    /// </summary>
    public DotNettySslSetup SslSetup(PeerPolicy peers) => new(
        Certificate,
        suppressValidation: false,
        requireMutualAuthentication: true,
        validateCertificateHostname: false,
        customValidator: PeerCertificateCheck.Validator(Authorities, peers));

    public void Dispose()
    {
        Certificate.Dispose();
        foreach (var authority in Authorities) authority.Dispose();
    }
}
