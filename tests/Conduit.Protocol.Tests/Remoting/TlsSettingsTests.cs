using System.Security.Cryptography.X509Certificates;
using Conduit.Protocol.Remoting;
using Conduit.Testing;
using Xunit;

namespace Conduit.Protocol.Tests.Remoting;

/// <summary>TLS settings are checked when a system starts, and a wrong one says which file is wrong and why.</summary>
public sealed class TlsSettingsTests(TestCertificates certs) : IClassFixture<TestCertificates>
{
    private string Temp(string name) => Path.Combine(certs.Directory, $"{Guid.NewGuid():N}-{name}");

    [Fact(DisplayName = "neither certificate nor CA means no TLS; only one of them is refused, naming the missing option")]
    public void BothOrNeither()
    {
        Assert.Null(TlsSettings.FromOptions(null, null, null));
        Assert.Contains("--tls-ca is missing", Assert.Throws<TlsSettingsException>(() => TlsSettings.FromOptions("node.pfx", null, null)).Message);
        Assert.Contains("--tls-cert is missing", Assert.Throws<TlsSettingsException>(() => TlsSettings.FromOptions(null, null, "ca.pem")).Message);
        Assert.Contains("password", Assert.Throws<TlsSettingsException>(() => TlsSettings.FromOptions(null, "secret", null)).Message);
        var settings = TlsSettings.FromOptions("node.pfx", "", "ca.pem");
        Assert.Equal(new TlsSettings { CertificatePath = "node.pfx", CertificatePassword = null, CaPath = "ca.pem" }, settings);
    }

    [Fact(DisplayName = "a node certificate of the CA loads, and is a node certificate")]
    public void GoodNodeLoads()
    {
        using var loaded = TestCertificates.Settings(certs.NodeA, certs.CaA).Load(CertificateRole.Node);
        Assert.True(loaded.Certificate.HasPrivateKey);
        Assert.Equal(CertificateRole.Node, CertificateRoles.RoleOf(loaded.Certificate));
        Assert.Single(loaded.Authorities);
    }

    [Fact(DisplayName = "missing files are named")]
    public void MissingFiles()
    {
        var noCert = Assert.Throws<TlsSettingsException>(() => TestCertificates.Settings(Temp("none.pfx"), certs.CaA).Validate());
        Assert.Contains("certificate file", noCert.Message);
        Assert.Contains("does not exist", noCert.Message);
        var noCa = Assert.Throws<TlsSettingsException>(() => TestCertificates.Settings(certs.NodeA, Temp("none.pem")).Validate());
        Assert.Contains("CA file", noCa.Message);
    }

    [Fact(DisplayName = "a certificate without its private key is refused")]
    public void NoPrivateKey()
    {
        var path = Temp("public.pfx");
        using (var withKey = X509CertificateLoader.LoadPkcs12FromFile(certs.NodeA, null))
        using (var publicOnly = X509CertificateLoader.LoadCertificate(withKey.RawData))
            File.WriteAllBytes(path, publicOnly.Export(X509ContentType.Pkcs12));

        var e = Assert.Throws<TlsSettingsException>(() => TestCertificates.Settings(path, certs.CaA).Validate());
        Assert.Contains("no private key", e.Message);
    }

    [Fact(DisplayName = "a wrong password and a file that is not PKCS#12 are refused")]
    public void WrongPasswordOrFormat()
    {
        var locked = Temp("locked.pfx");
        using (var certificate = X509CertificateLoader.LoadPkcs12FromFile(certs.NodeA, null))
            CertificateFiles.WritePfx(certificate, locked, "right");

        Assert.Contains("password", Assert.Throws<TlsSettingsException>(() =>
            new TlsSettings { CertificatePath = locked, CertificatePassword = "wrong", CaPath = certs.CaA }.Validate()).Message);
        using (var opened = new TlsSettings { CertificatePath = locked, CertificatePassword = "right", CaPath = certs.CaA }.Load())
            Assert.True(opened.Certificate.HasPrivateKey);
        Assert.Contains("PKCS#12", Assert.Throws<TlsSettingsException>(() => TestCertificates.Settings(certs.CaA, certs.CaA).Validate()).Message);
    }

    [Fact(DisplayName = "a CA file that is not PEM, or holds a node's certificate instead of the CA, is refused")]
    public void BadCaFile()
    {
        var garbage = Temp("garbage.pem");
        File.WriteAllText(garbage, "not a certificate\n");
        Assert.Contains("holds no certificate", Assert.Throws<TlsSettingsException>(() => TestCertificates.Settings(certs.NodeA, garbage).Validate()).Message);

        var leaf = Temp("leaf.pem");
        using (var node = X509CertificateLoader.LoadPkcs12FromFile(certs.NodeA, null)) File.WriteAllText(leaf, node.ExportCertificatePem());
        Assert.Contains("not a CA certificate", Assert.Throws<TlsSettingsException>(() => TestCertificates.Settings(certs.NodeA, leaf).Validate()).Message);
    }

    [Fact(DisplayName = "a certificate of another CA is refused at start, before any peer sees it")]
    public void OtherCa()
    {
        var e = Assert.Throws<TlsSettingsException>(() => TestCertificates.Settings(certs.NodeB, certs.CaA).Validate());
        Assert.Contains("does not chain to the CA", e.Message);
    }

    [Fact(DisplayName = "a node refuses to start with a client certificate")]
    public void WrongRole()
    {
        var e = Assert.Throws<TlsSettingsException>(() => TestCertificates.Settings(certs.ClientA, certs.CaA).Validate(CertificateRole.Node));
        Assert.Contains("is a client certificate", e.Message);
        TestCertificates.Settings(certs.ClientA, certs.CaA).Validate(CertificateRole.Client);
    }

    [Fact(DisplayName = "the endpoint HOCON carries host, port, the shared frame size and TLS on or off; TLS addresses are akka.ssl.tcp")]
    public void EndpointHocon()
    {
        using var tls = TestCertificates.Load(certs.NodeA, certs.CaA);
        var plain = new RemotingEndpoint { Host = "10.0.0.5", Port = 5053 }.ToConfig();
        var secure = new RemotingEndpoint { Host = "10.0.0.5", Port = 5053, Tls = tls }.ToConfig();

        Assert.Equal("10.0.0.5", plain.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal(5053, plain.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Equal(WireLimits.MaximumFrameBytes, plain.GetByteSize("akka.remote.dot-netty.tcp.maximum-frame-size"));
        Assert.False(plain.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
        Assert.True(secure.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
        Assert.Equal("akka.ssl.tcp://conduit@h:1", RemotingEndpoint.Address(tls: true, "conduit", "h", 1));
        Assert.Equal("akka.tcp://conduit@h:1", RemotingEndpoint.Address(tls: false, "conduit", "h", 1));
        Assert.Null(new RemotingEndpoint { Host = "h" }.SslSetup());
        Assert.True(new RemotingEndpoint { Host = "h", Tls = tls }.SslSetup()!.RequireMutualAuthentication);
    }
}
