using Conduit.Protocol.Remoting;

namespace Conduit.Testing;

/// <summary>
/// A temporary directory of certificates made by Conduit's own generator (<see cref="CertificateAuthority"/>, what
/// <c>conduit certs create</c> runs): CA "A" with a node certificate, a second node certificate and a client
/// certificate; CA "B" with a node and a client certificate; and a bundle trusting both CAs. Deleted on dispose.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    public TestCertificates()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("conduit-tls-").FullName;
        using var a = CertificateAuthority.Create(days: 2);
        using var b = CertificateAuthority.Create(days: 2);
        CertificateFiles.WritePem(a.ExportPem(), CaA);
        CertificateFiles.WritePem(b.ExportPem(), CaB);
        CertificateFiles.WritePem(a.ExportPem() + b.ExportPem(), CaBoth);
        Write(a.IssueNode("node-a1", ["127.0.0.1"], days: 1), NodeA);
        Write(a.IssueNode("node-a2", ["127.0.0.1"], days: 1), NodeA2);
        Write(a.IssueClient("client-a", days: 1), ClientA);
        Write(b.IssueNode("node-b", ["127.0.0.1"], days: 1), NodeB);
        Write(b.IssueClient("client-b", days: 1), ClientB);
    }

    public string Directory { get; }

    public string CaA => Path.Combine(Directory, "ca-a.pem");
    public string CaB => Path.Combine(Directory, "ca-b.pem");
    /// <summary>Both CAs in one PEM, as while one CA replaces another.</summary>
    public string CaBoth => Path.Combine(Directory, "ca-both.pem");
    public string NodeA => Path.Combine(Directory, "node-a1.pfx");
    public string NodeA2 => Path.Combine(Directory, "node-a2.pfx");
    public string ClientA => Path.Combine(Directory, "client-a.pfx");
    public string NodeB => Path.Combine(Directory, "node-b.pfx");
    public string ClientB => Path.Combine(Directory, "client-b.pfx");

    /// <summary>Settings for <paramref name="certificate"/> trusting <paramref name="ca"/>.</summary>
    public static TlsSettings Settings(string certificate, string ca) => new() { CertificatePath = certificate, CaPath = ca };

    /// <summary>Loaded credentials for <paramref name="certificate"/> trusting <paramref name="ca"/>.</summary>
    public static TlsCredentials Load(string certificate, string ca) => Settings(certificate, ca).Load();

    private static void Write(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate, string path)
    {
        using (certificate) CertificateFiles.WritePfx(certificate, path, password: null);
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
