using System.Buffers.Text;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Conduit.Server.Matching;

/// <summary>
/// Makes and checks the MAC of a partition's lease tokens: HMAC-SHA256 over the token's text without the MAC
/// (task id, attempt, owner epoch, nonce) with the partition's own random key (<see cref="DurablePartitionState.LeaseKey"/>),
/// cut to 128 bits, base64url. Only the partition (and whoever reads its journal) knows the key, so a token cannot be
/// made up or altered; nonces come from the system's cryptographic generator. One per partition, used by its actor
/// only (the HMAC instance is kept, not thread-safe). The instance (about 2.3 KiB, mostly OpenSSL's, outside the GC
/// heap) is made on first use and let go by <see cref="Release"/> when the partition goes idle, so a queue that is not
/// dispatching holds none.
/// </summary>
internal sealed class LeaseSigner(byte[] key)
{
    public const int KeyBytes = 32;
    private const int MacBytes = 16;
    private const int MacChars = 22; // base64url of 16 bytes, unpadded

    private HMACSHA256? _hmac;

    public static byte[] NewKey() => RandomNumberGenerator.GetBytes(KeyBytes);

    /// <summary>A nonce from the cryptographic generator, never 0.</summary>
    public static long NewNonce()
    {
        Span<byte> bytes = stackalloc byte[8];
        long nonce;
        do
        {
            RandomNumberGenerator.Fill(bytes);
            nonce = BitConverter.ToInt64(bytes) & long.MaxValue;
        } while (nonce == 0);
        return nonce;
    }

    /// <summary>The token's text (<see cref="LeaseToken"/>'s form), MAC included.</summary>
    public string Sign(TaskId task, int attempt, long epoch, long nonce)
    {
        var signed = string.Create(CultureInfo.InvariantCulture, $"{task}:{attempt}:{epoch}:{nonce}");
        Span<char> mac = stackalloc char[MacChars];
        Compute(signed, mac);
        return string.Concat(signed, ":", mac);
    }

    /// <summary>
    /// Whether <paramref name="text"/> ends in the MAC this partition makes for the rest of it (compared in constant
    /// time, as text: nothing from the network is decoded). Only the exact text a partition handed out verifies.
    /// </summary>
    public bool Verify(string? text)
    {
        if (text is null || text.Length > LeaseToken.MaxTextLength) return false;
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || text.Length - colon - 1 != MacChars) return false;
        Span<char> expected = stackalloc char[MacChars];
        Compute(text.AsSpan(0, colon), expected);
        return CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(expected), MemoryMarshal.AsBytes(text.AsSpan(colon + 1)));
    }

    /// <summary>Lets the HMAC instance go (the partition is idle); the next sign or check makes a new one.</summary>
    public void Release()
    {
        _hmac?.Dispose();
        _hmac = null;
    }

    private void Compute(ReadOnlySpan<char> signed, Span<char> macChars)
    {
        Span<byte> utf8 = stackalloc byte[Encoding.UTF8.GetMaxByteCount(LeaseToken.MaxTextLength)];
        var length = Encoding.UTF8.GetBytes(signed, utf8);
        Span<byte> mac = stackalloc byte[32];
        (_hmac ??= new HMACSHA256(key)).TryComputeHash(utf8[..length], mac, out _);
        Base64Url.EncodeToChars(mac[..MacBytes], macChars);
    }
}
