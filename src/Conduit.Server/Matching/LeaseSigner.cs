using System.Buffers.Text;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Conduit.Server.Matching;

/// <summary>
/// Makes and checks the MAC of a partition's lease tokens: HMAC-SHA256 over the token's text without the MAC
/// (task id, attempt, owner epoch, nonce) with the partition's own random key (<see cref="PartitionLog.LeaseKey"/>),
/// cut to 128 bits, base64url. Only the partition (and whoever reads its journal) knows the key, so a token cannot be
/// made up or altered; nonces come from the system's cryptographic generator.
/// </summary>
internal sealed class LeaseSigner(byte[] key)
{
    public const int KeyBytes = 32;
    private const int MacBytes = 16;

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

    public LeaseToken Sign(TaskId task, int attempt, long epoch, long nonce)
    {
        var unsigned = new LeaseToken(task, attempt, epoch, nonce, "");
        return unsigned with { Mac = Base64Url.EncodeToString(Compute(unsigned.SignedPart)) };
    }

    /// <summary>Whether the token's MAC is the one this partition makes for its other fields (compared in constant time).</summary>
    public bool Verify(LeaseToken token)
    {
        // Compared as text: nothing from the network is decoded (a decoder that throws on bad input would crash the partition).
        var expected = Base64Url.EncodeToString(Compute(token.SignedPart));
        return token.Mac is { } given && CryptographicOperations.FixedTimeEquals(
            MemoryMarshal.AsBytes(expected.AsSpan()), MemoryMarshal.AsBytes(given.AsSpan()));
    }

    private byte[] Compute(string signedPart)
    {
        var full = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(signedPart));
        return full[..MacBytes];
    }
}
