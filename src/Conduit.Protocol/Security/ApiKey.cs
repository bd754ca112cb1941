using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Conduit.Protocol.Security;

/// <summary>
/// API keys: the text <c>{id}.{secret}</c> a client presents in every <see cref="KeyedRequest"/>. The id
/// (<c>[a-z0-9][a-z0-9_-]{0,63}</c>) names the key in the node's keys file and in audit lines; the secret is the
/// base64url text of <see cref="SecretBytes"/> random bytes. Nodes keep only the SHA-256 of the whole key text
/// (<see cref="Sha256Hex"/>), so a leaked keys file does not give away a key.
/// </summary>
public static partial class ApiKey
{
    /// <summary>Longest key text accepted: longer text is not parsed at all.</summary>
    public const int MaxLength = 200;

    /// <summary>Longest key id.</summary>
    public const int MaxIdLength = 64;

    /// <summary>Random bytes in a generated secret (256 bits; 43 base64url characters).</summary>
    public const int SecretBytes = 32;

    /// <summary>Fewest secret characters accepted (22 base64url characters carry 128 bits).</summary>
    public const int MinSecretLength = 22;

    /// <summary>Length of <see cref="Sha256Hex"/>: 64 hex characters.</summary>
    public const int HashHexLength = 64;

    // \z, not $: $ also matches before a final newline.
    [GeneratedRegex(@"^[a-z0-9][a-z0-9_-]{0,63}\z", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();

    [GeneratedRegex(@"^[A-Za-z0-9_-]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex SecretPattern();

    public static bool IsValidId([NotNullWhen(true)] string? id) => id is not null && IdPattern().IsMatch(id);

    /// <summary>Why <paramref name="id"/> is not a key id, quoting it escaped (ids are not secret).</summary>
    public static string DescribeId(string? id) =>
        $"invalid key id '{SafeText.Escape(id, 80)}': use 1-{MaxIdLength} characters from a-z, 0-9, '_', '-', starting with a letter or digit";

    /// <summary>A new key for <paramref name="id"/>: <c>{id}.{secret}</c> with a secret from <see cref="RandomNumberGenerator"/>.</summary>
    public static string Generate(string id)
    {
        if (!IsValidId(id)) throw new ArgumentException(DescribeId(id), nameof(id));
        Span<byte> secret = stackalloc byte[SecretBytes];
        RandomNumberGenerator.Fill(secret);
        return $"{id}.{Base64Url(secret)}";
    }

    /// <summary>
    /// Whether <paramref name="key"/> has the form of a key (at most <see cref="MaxLength"/> characters, a valid id, a
    /// dot, at least <see cref="MinSecretLength"/> base64url characters), and its id. Says nothing about whether any node
    /// knows the key.
    /// </summary>
    public static bool TryParseId([NotNullWhen(true)] string? key, [NotNullWhen(true)] out string? id)
    {
        id = null;
        if (key is null || key.Length > MaxLength) return false;
        var dot = key.IndexOf('.');
        if (dot <= 0) return false;
        var candidate = key[..dot];
        var secret = key.AsSpan(dot + 1);
        if (!IsValidId(candidate) || secret.Length < MinSecretLength || !SecretPattern().IsMatch(secret)) return false;
        id = candidate;
        return true;
    }

    /// <summary>
    /// Why <paramref name="key"/> is not a well-formed key, without quoting it (it may be a real key with a typo); null
    /// when it is one.
    /// </summary>
    public static string? Problem(string? key)
    {
        if (TryParseId(key, out _)) return null;
        if (string.IsNullOrEmpty(key)) return "the API key is empty";
        if (key.Length > MaxLength) return $"the API key is longer than {MaxLength} characters";
        return $"the API key is not of the form id.secret (id: 1-{MaxIdLength} characters from a-z, 0-9, '_', '-'; " +
               $"secret: at least {MinSecretLength} characters from A-Z, a-z, 0-9, '_', '-'); `conduit keys new` makes one";
    }

    /// <summary>How to show <paramref name="key"/> in a log line or a message: its id only, never the secret.</summary>
    public static string Describe(string? key) =>
        string.IsNullOrEmpty(key) ? "(none)" : TryParseId(key, out var id) ? $"{id}.***" : "(malformed)";

    /// <summary>Lowercase hex of the SHA-256 of the key text (UTF-8): what a node's keys file stores.</summary>
    public static string Sha256Hex(string key) => Convert.ToHexStringLower(Sha256(key));

    /// <summary>The SHA-256 of the key text (UTF-8).</summary>
    public static byte[] Sha256(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>
    /// Whether the SHA-256 of <paramref name="key"/> is <paramref name="expectedSha256"/>, compared in constant time
    /// (the time taken does not tell how many leading bytes matched).
    /// </summary>
    public static bool HashMatches(string key, ReadOnlySpan<byte> expectedSha256) =>
        CryptographicOperations.FixedTimeEquals(Sha256(key), expectedSha256);

    private static string Base64Url(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
