using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Conduit.Protocol.Remoting;

/// <summary>Writes certificates to disk: never over an existing file, and readable by the owner only where a key is inside.</summary>
public static class CertificateFiles
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Public = OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>
    /// <paramref name="certificate"/> with its private key as PKCS#12, mode 0600. With a <paramref name="password"/> the
    /// file is encrypted with it (AES-256, PBKDF2-SHA256); without one it is not (file permissions are its protection).
    /// </summary>
    public static void WritePfx(X509Certificate2 certificate, string path, string? password)
    {
        var bytes = string.IsNullOrEmpty(password)
            ? certificate.Export(X509ContentType.Pkcs12)
            : certificate.ExportPkcs12(new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 100_000), password);
        Write(path, bytes, OwnerOnly);
    }

    /// <summary>Public PEM text (a CA certificate), mode 0644.</summary>
    public static void WritePem(string pem, string path) => Write(path, System.Text.Encoding.ASCII.GetBytes(pem.EndsWith('\n') ? pem : pem + "\n"), Public);

    private static void Write(string path, byte[] bytes, UnixFileMode mode)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = mode;
        try
        {
            using var file = new FileStream(path, options);
            file.Write(bytes);
        }
        catch (IOException) when (File.Exists(path))
        {
            throw new IOException($"'{path}' exists already: not overwriting it (move it away first)");
        }
    }
}
