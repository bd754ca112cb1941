using System.Collections.Concurrent;
using System.Security.Cryptography;
using Conduit.Server.Security;

namespace Conduit.Server.Dashboard;

/// <summary>
/// Dashboard logins on a node with API keys. A login makes a session with a random id (the cookie's value: never the
/// key) and a random anti-CSRF token (sent back by the pages in a header on every POST). A session ends after
/// <see cref="IdleTimeout"/> without a request, after <see cref="MaxAge"/> in any case, at logout, and as soon as its key
/// is revoked or changed in the keys file; the identity (roles, namespaces) is the key's as it is in force now.
/// Sessions live in memory: a node restart logs everyone out. Thread-safe.
/// </summary>
internal sealed class DashboardSessions(TimeProvider time)
{
    /// <summary>A session unused this long ends: 30 minutes.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(30);
    /// <summary>A session ends this long after the login whatever its use: 8 hours.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromHours(8);
    /// <summary>Most sessions kept at once: 1,000; beyond it the least recently used goes.</summary>
    public const int MaxSessions = 1000;

    internal sealed record Session(string Id, string KeyId, byte[] KeySha256, string CsrfToken, DateTimeOffset Created)
    {
        public DateTimeOffset LastSeen { get; set; } = Created;
    }

    private readonly ConcurrentDictionary<string, Session> _sessions = new(StringComparer.Ordinal);

    /// <summary>The anti-CSRF token of a node without keys (no sessions there): one per process, random.</summary>
    public string OpenCsrfToken { get; } = NewSecret();

    public int Count => _sessions.Count;

    /// <summary>A new session for the key <paramref name="keyId"/> (with the SHA-256 it has in the keys file now).</summary>
    public Session Create(string keyId, byte[] keySha256)
    {
        var now = time.GetUtcNow();
        foreach (var expired in _sessions.Values.Where(s => IsExpired(s, now))) _sessions.TryRemove(expired.Id, out _);
        while (_sessions.Count >= MaxSessions && _sessions.Values.MinBy(s => s.LastSeen) is { } oldest) _sessions.TryRemove(oldest.Id, out _);
        var session = new Session(NewSecret(), keyId, keySha256, NewSecret(), now);
        _sessions[session.Id] = session;
        return session;
    }

    /// <summary>
    /// The live session of cookie value <paramref name="id"/> and who it acts as now; null when there is none, it has
    /// expired, or its key is no longer in force as it was at login (then the session is ended too).
    /// </summary>
    public (Session Session, Identity Who)? Find(string? id, KeyStore keys)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 100 || !_sessions.TryGetValue(id, out var session)) return null;
        var now = time.GetUtcNow();
        if (IsExpired(session, now)
            || keys.Current(session.KeyId) is not { } key
            || !CryptographicOperations.FixedTimeEquals(key.Sha256, session.KeySha256))
        {
            _sessions.TryRemove(id, out _);
            return null;
        }
        session.LastSeen = now;
        return (session, key.Identity);
    }

    public void End(string id) => _sessions.TryRemove(id, out _);

    private static bool IsExpired(Session session, DateTimeOffset now) =>
        now - session.LastSeen > IdleTimeout || now - session.Created > MaxAge;

    /// <summary>256 random bits, base64url (cookie- and header-safe).</summary>
    private static string NewSecret() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
