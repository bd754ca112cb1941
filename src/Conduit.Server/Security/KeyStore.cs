using System.Collections.Frozen;
using System.Security.Cryptography;
using Conduit.Protocol.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Conduit.Server.Security;

/// <summary>
/// The API keys a node accepts, read from its keys file (<c>--keys FILE.json</c>, see <see cref="KeysFile"/>), or none
/// at all (<see cref="IsOpen"/>: auth off, everyone is <see cref="Identity.Anonymous"/>). The file is read again when
/// its content changes (checked every <see cref="DefaultReloadInterval"/>), so keys are added and revoked without a
/// restart; a changed file that is invalid is logged as an error and the keys in force stay as they were.
/// Thread-safe: lookups read an immutable snapshot, reloads swap it.
/// </summary>
public sealed class KeyStore : IDisposable
{
    /// <summary>How often the keys file is checked for changes: 2 seconds.</summary>
    public static readonly TimeSpan DefaultReloadInterval = TimeSpan.FromSeconds(2);

    private static readonly FrozenDictionary<string, KeysFile.StoredKey> NoKeys = FrozenDictionary<string, KeysFile.StoredKey>.Empty;

    // A hash compared when the id is unknown, so an unknown id takes as long as a wrong secret.
    private static readonly byte[] DecoyHash = SHA256.HashData("conduit: no such key"u8);

    private readonly ILogger _log;
    private readonly Lock _reloading = new();
    private readonly Timer? _timer;
    private volatile FrozenDictionary<string, KeysFile.StoredKey> _keys;
    private byte[]? _lastSeen; // the content last read; null after the file could not be read

    private KeyStore(string? path, FrozenDictionary<string, KeysFile.StoredKey> keys, byte[] content, ILogger log, TimeSpan reloadInterval)
    {
        Path = path;
        _keys = keys;
        _lastSeen = content;
        _log = log;
        if (path is not null && reloadInterval > TimeSpan.Zero && reloadInterval != Timeout.InfiniteTimeSpan)
            _timer = new Timer(_ => ReloadInBackground(), null, reloadInterval, reloadInterval);
    }

    /// <summary>A store without keys file: auth off.</summary>
    public static KeyStore Open() => new(null, NoKeys, [], NullLogger.Instance, Timeout.InfiniteTimeSpan);

    /// <summary>
    /// Reads the keys file at <paramref name="path"/>; a file that is missing or invalid is a startup error.
    /// <paramref name="reloadInterval"/> defaults to <see cref="DefaultReloadInterval"/>; zero or infinite checks only
    /// when <see cref="ReloadIfChanged"/> is called.
    /// </summary>
    /// <exception cref="KeysFileException">The file cannot be read or is not a valid keys file; the message says where.</exception>
    public static KeyStore Load(string path, ILogger? log = null, TimeSpan? reloadInterval = null)
    {
        var full = System.IO.Path.GetFullPath(path);
        var content = Read(full);
        var keys = KeysFile.Parse(Text(content), full);
        log ??= NullLogger.Instance;
        log.LogInformation("API keys: {Count} loaded from {Path}", keys.Count, full);
        return new KeyStore(full, keys, content, log, reloadInterval ?? DefaultReloadInterval);
    }

    /// <summary>No keys file is configured: every request is allowed as <see cref="Identity.Anonymous"/>.</summary>
    public bool IsOpen => Path is null;

    /// <summary>The keys file (full path), or null when <see cref="IsOpen"/>.</summary>
    public string? Path { get; }

    /// <summary>The ids of the keys in force.</summary>
    public IReadOnlyCollection<string> Ids => _keys.Keys;

    /// <summary>
    /// Who presents <paramref name="presentedKey"/>: the key's id must be in the file and the SHA-256 of the key text must
    /// match its entry (compared in constant time). On an open store everyone is <see cref="Identity.Anonymous"/>.
    /// </summary>
    public bool TryAuthenticate(string? presentedKey, out Identity identity)
    {
        if (IsOpen)
        {
            identity = Identity.Anonymous;
            return true;
        }
        identity = null!;
        if (!ApiKey.TryParseId(presentedKey, out var id)) return false;
        var found = _keys.TryGetValue(id, out var stored);
        var matches = ApiKey.HashMatches(presentedKey, found ? stored!.Sha256 : DecoyHash);
        if (!found || !matches) return false;
        identity = stored!.Identity;
        return true;
    }

    /// <summary>
    /// The key with id <paramref name="id"/> as it is in force now, or null (revoked, or never there). For sessions that
    /// outlive the request that presented the key (the dashboard's): they end when the key is revoked or changed.
    /// </summary>
    internal KeysFile.StoredKey? Current(string id) => _keys.GetValueOrDefault(id);

    /// <summary>
    /// As <see cref="TryAuthenticate"/>, with the refusal to send back when the key is missing, malformed, unknown or
    /// wrong (null when it is accepted). An unknown id and a wrong secret get the same answer; no answer quotes the secret.
    /// </summary>
    public Rejected? Authenticate(string? presentedKey, out Identity identity)
    {
        if (TryAuthenticate(presentedKey, out identity)) return null;
        if (string.IsNullOrEmpty(presentedKey))
            return new Rejected(ErrorCode.Unauthorized,
                "this node requires an API key: pass --api-key (or CONDUIT_API_KEY) to the CLI, or set ConduitClientOptions.ApiKey");
        if (ApiKey.Problem(presentedKey) is { } problem) return new Rejected(ErrorCode.Unauthorized, problem);
        return new Rejected(ErrorCode.Unauthorized,
            $"API key {ApiKey.Describe(presentedKey)} is not accepted by this node: unknown id or wrong secret (revoked keys are refused too)");
    }

    /// <summary>
    /// Reads the keys file again if its content changed since it was last read. A valid new file replaces the keys in
    /// force (logged with the ids added and removed); an invalid or unreadable one is logged as an error, once per
    /// content, and changes nothing. Returns whether the keys in force changed.
    /// </summary>
    public bool ReloadIfChanged()
    {
        if (Path is null) return false;
        lock (_reloading)
        {
            byte[] content;
            try
            {
                content = Read(Path);
            }
            catch (KeysFileException e)
            {
                if (_lastSeen is not null) _log.LogError("API keys: keeping the {Count} keys in force: {Problem}", _keys.Count, e.Message);
                _lastSeen = null;
                return false;
            }
            if (_lastSeen is not null && content.AsSpan().SequenceEqual(_lastSeen)) return false;
            _lastSeen = content;
            FrozenDictionary<string, KeysFile.StoredKey> keys;
            try
            {
                keys = KeysFile.Parse(Text(content), Path);
            }
            catch (KeysFileException e)
            {
                _log.LogError("API keys: the changed keys file is invalid, keeping the {Count} keys in force: {Problem}", _keys.Count, e.Message);
                return false;
            }
            var before = _keys;
            _keys = keys;
            var added = keys.Keys.Where(id => !before.ContainsKey(id)).Order(StringComparer.Ordinal).ToList();
            var removed = before.Keys.Where(id => !keys.ContainsKey(id)).Order(StringComparer.Ordinal).ToList();
            var changed = keys.Where(k => before.TryGetValue(k.Key, out var old) && !SameKey(old, k.Value)).Select(k => k.Key).Order(StringComparer.Ordinal).ToList();
            _log.LogWarning("API keys: reloaded {Path}: {Count} keys; added [{Added}], removed [{Removed}], changed [{Changed}]",
                Path, keys.Count, string.Join(", ", added), string.Join(", ", removed), string.Join(", ", changed));
            return true;
        }
    }

    public void Dispose() => _timer?.Dispose();

    private void ReloadInBackground()
    {
        try
        {
            ReloadIfChanged();
        }
        catch (Exception e)
        {
            // A timer thread must not take the node down; the keys in force stay, and the error is logged each time.
            _log.LogError(e, "API keys: checking {Path} for changes failed; keeping the keys in force", Path);
        }
    }

    private static bool SameKey(KeysFile.StoredKey a, KeysFile.StoredKey b) =>
        a.Sha256.AsSpan().SequenceEqual(b.Sha256) && a.Identity.Roles == b.Identity.Roles && a.Identity.NamespacesText == b.Identity.NamespacesText;

    /// <summary>Most bytes a keys file may have: 4 MiB (tens of thousands of keys).</summary>
    internal const int MaxFileBytes = 4 << 20;

    private static byte[] Read(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw new KeysFileException($"{path}: keys file not found");
            if (info.Length > MaxFileBytes) throw new KeysFileException($"{path}: keys file is larger than {MaxFileBytes} bytes");
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KeysFileException($"{path}: cannot read the keys file: {e.Message}");
        }
    }

    private static string Text(byte[] content)
    {
        var text = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: false).GetString(content);
        return text.StartsWith('\uFEFF') ? text[1..] : text; // a byte order mark, as some editors write
    }
}
