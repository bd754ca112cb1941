using Conduit.Protocol.Remoting;
using Conduit.Testing;
using Xunit;

namespace Conduit.Client.Tests;

/// <summary>The client's TLS options are checked when the client is made, before it dials anything.</summary>
public sealed class ClientTlsOptionTests(TestCertificates certs) : IClassFixture<TestCertificates>
{
    [Fact(DisplayName = "no TLS options means no TLS")]
    public void NoTls()
    {
        var options = new ConduitClientOptions();
        options.Validate();
        Assert.Null(options.LoadTls());
    }

    [Fact(DisplayName = "a client certificate with its CA loads")]
    public void ClientCertificateLoads()
    {
        var options = new ConduitClientOptions { TlsCertificatePath = certs.ClientA, TlsCaPath = certs.CaA };
        options.Validate();
        using var tls = options.LoadTls();
        Assert.Equal(CertificateRole.Client, CertificateRoles.RoleOf(tls!.Certificate));
    }

    [Fact(DisplayName = "only one of certificate and CA, a missing file, or a certificate of another CA is refused with what is wrong")]
    public void BadTlsOptions()
    {
        Assert.Contains("TlsCaPath is missing", Assert.Throws<ArgumentException>(() =>
            new ConduitClientOptions { TlsCertificatePath = certs.ClientA }.Validate()).Message);
        Assert.Contains("TlsCertificatePath is missing", Assert.Throws<ArgumentException>(() =>
            new ConduitClientOptions { TlsCaPath = certs.CaA }.Validate()).Message);
        Assert.Contains("does not exist", Assert.Throws<ArgumentException>(() =>
            new ConduitClientOptions { TlsCertificatePath = certs.ClientA, TlsCaPath = Path.Combine(certs.Directory, "nope.pem") }.Validate()).Message);
        Assert.Contains("does not chain to the CA", Assert.Throws<ArgumentException>(() =>
            new ConduitClientOptions { TlsCertificatePath = certs.ClientB, TlsCaPath = certs.CaA }.Validate()).Message);
    }
}
