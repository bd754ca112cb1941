using System.Security.Cryptography.X509Certificates;
using Conduit.Protocol.Remoting;
using Xunit;

namespace Conduit.Cli.Tests;

/// <summary><c>conduit certs create | issue</c>: the files TLS runs on, made by the CLI.</summary>
public sealed class CertsCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("conduit-certs-").FullName;

    private string Out => Path.Combine(_dir, "certs");
    private string File(string name) => Path.Combine(Out, name);

    [Fact(DisplayName = "certs create writes a CA, a node certificate with its hosts and client certificates, all chaining to the CA with the right OU")]
    public async Task Create()
    {
        var r = await CliProcess.Run("certs", "create", "--out", Out, "--host", "node1.example", "--host", "10.0.0.5", "--client", "alice", "--days", "30");
        Assert.True(r.ExitCode == 0, r.ToString());

        var authorities = new X509Certificate2Collection();
        authorities.ImportFromPemFile(File("ca.pem"));
        var ca = Assert.Single(authorities);
        using var node = X509CertificateLoader.LoadPkcs12FromFile(File("node.pfx"), null);
        using var client = X509CertificateLoader.LoadPkcs12FromFile(File("client-alice.pfx"), null);
        using var caWithKey = X509CertificateLoader.LoadPkcs12FromFile(File("ca.pfx"), null);

        Assert.True(caWithKey.HasPrivateKey);
        Assert.Equal(ca.Thumbprint, caWithKey.Thumbprint);
        Assert.True(node.HasPrivateKey && client.HasPrivateKey);
        Assert.True(PeerCertificateCheck.ChainsTo(node, authorities, out var why), why);
        Assert.True(PeerCertificateCheck.ChainsTo(client, authorities, out why), why);
        Assert.Equal(CertificateRole.Node, CertificateRoles.RoleOf(node));
        Assert.Equal(CertificateRole.Client, CertificateRoles.RoleOf(client));
        Assert.Contains("CN=alice", client.Subject);
        Assert.InRange(node.NotAfter - DateTime.Now, TimeSpan.FromDays(29), TimeSpan.FromDays(31));

        var san = node.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Equal(["node1.example", "localhost"], san.EnumerateDnsNames());
        Assert.Equal(["10.0.0.5", "127.0.0.1", "::1"], san.EnumerateIPAddresses().Select(a => a.ToString()));
        var usages = node.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Select(o => o.Value);
        Assert.Equal(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"], usages);
        var clientUsages = client.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Select(o => o.Value);
        Assert.Equal(["1.3.6.1.5.5.7.3.2"], clientUsages);

        if (!OperatingSystem.IsWindows())
        {
            foreach (var key in new[] { "ca.pfx", "node.pfx", "client-alice.pfx" })
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, System.IO.File.GetUnixFileMode(File(key)));
        }
    }

    [Fact(DisplayName = "certs issue adds a certificate from the same CA, and create never overwrites")]
    public async Task IssueAndNoOverwrite()
    {
        Assert.Equal(0, (await CliProcess.Run("certs", "create", "--out", Out)).ExitCode);

        var r = await CliProcess.Run("certs", "issue", "--ca", File("ca.pfx"), "--client", "worker-7");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var tls = new TlsSettings { CertificatePath = File("client-worker-7.pfx"), CaPath = File("ca.pem") }.Load(CertificateRole.Client);
        var n = await CliProcess.Run("certs", "issue", "--ca", File("ca.pfx"), "--node", "n2", "--host", "n2.example");
        Assert.True(n.ExitCode == 0, n.ToString());
        using var node = new TlsSettings { CertificatePath = File("node-n2.pfx"), CaPath = File("ca.pem") }.Load(CertificateRole.Node);

        var before = System.IO.File.ReadAllBytes(File("ca.pfx"));
        var again = await CliProcess.Run("certs", "create", "--out", Out);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("not overwriting", again.Err);
        Assert.Equal(before, System.IO.File.ReadAllBytes(File("ca.pfx")));
    }

    [Fact(DisplayName = "with --password the .pfx files open only with it")]
    public async Task Password()
    {
        Assert.Equal(0, (await CliProcess.Run("certs", "create", "--out", Out, "--password", "s3cret")).ExitCode);

        Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() => X509CertificateLoader.LoadPkcs12FromFile(File("node.pfx"), null));
        using var tls = new TlsSettings { CertificatePath = File("node.pfx"), CertificatePassword = "s3cret", CaPath = File("ca.pem") }.Load(CertificateRole.Node);
        var wrong = await CliProcess.Run("certs", "issue", "--ca", File("ca.pfx"), "--client", "c", "--password", "nope");
        Assert.Equal(2, wrong.ExitCode);
        Assert.Contains("password", wrong.Err);
    }

    [Theory(DisplayName = "TLS global options that cannot work are a usage error before anything is sent")]
    [InlineData("--tls-ca is missing", "--tls-cert", "/nonexistent/client.pfx")]
    [InlineData("--tls-cert is missing", "--tls-ca", "/nonexistent/ca.pem")]
    [InlineData("does not exist", "--tls-cert", "/nonexistent/client.pfx", "--tls-ca", "/nonexistent/ca.pem")]
    public async Task BadTlsOptions(string message, params string[] tls)
    {
        var r = await CliProcess.Run(["--server", "127.0.0.1:1", .. tls, "queues"]);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains(message, r.Err);
    }

    [Fact(DisplayName = "CONDUIT_TLS_CERT and CONDUIT_TLS_CA are read when the options are not given")]
    public async Task TlsFromEnvironment()
    {
        var r = await CliProcess.Run(new Dictionary<string, string> { ["CONDUIT_TLS_CERT"] = "/nonexistent/client.pfx" }, "--server", "127.0.0.1:1", "queues");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--tls-ca is missing", r.Err);
    }

    [Fact(DisplayName = "--server takes a TLS address (akka.ssl.tcp://conduit@host:port) as the cluster lists it")]
    public async Task TlsServerAddress()
    {
        var port = CliProcess.FreePort();
        var r = await CliProcess.Run("--server", $"akka.ssl.tcp://conduit@127.0.0.1:{port}", "--timeout", "2s", "queues");
        Assert.True(r.ExitCode == 3, r.ToString());
        Assert.Contains($"cannot reach 127.0.0.1:{port}", r.Err);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
