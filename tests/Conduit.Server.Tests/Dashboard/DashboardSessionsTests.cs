using System.Text.Json;
using Conduit.Protocol.Security;
using Conduit.Server.Dashboard;
using Conduit.Server.Security;
using Xunit;

namespace Conduit.Server.Tests.Dashboard;

public sealed class DashboardSessionsTests : IDisposable
{
    private sealed class ManualTime : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private readonly string _file = Path.Combine(Path.GetTempPath(), $"conduit-dashboard-sessions-{Guid.NewGuid():N}.json");
    private readonly string _key = ApiKey.Generate("ops");
    private readonly ManualTime _time = new();

    public DashboardSessionsTests() => Write(KeysFileEntry.For(_key, ["operator"], ["*"]));

    public void Dispose() => File.Delete(_file);

    private void Write(params KeysFileEntry[] entries) => File.WriteAllText(_file, JsonSerializer.Serialize(new { keys = entries }));

    private (DashboardSessions Sessions, KeyStore Keys, DashboardSessions.Session Session) LoggedIn()
    {
        var keys = KeyStore.Load(_file, reloadInterval: Timeout.InfiniteTimeSpan);
        var sessions = new DashboardSessions(_time);
        Assert.True(keys.TryAuthenticate(_key, out var who));
        return (sessions, keys, sessions.Create(who.Name, keys.Current(who.Name)!.Sha256));
    }

    [Fact(DisplayName = "a session id and its CSRF token are random, distinct and not the key; the session acts as the key")]
    public void SessionIsNotTheKey()
    {
        var (sessions, keys, session) = LoggedIn();
        var other = sessions.Create("ops", keys.Current("ops")!.Sha256);
        Assert.NotEqual(session.Id, other.Id);
        Assert.NotEqual(session.Id, session.CsrfToken);
        Assert.DoesNotContain(session.Id, _key);
        Assert.True(session.Id.Length >= 43);
        Assert.Equal("ops", sessions.Find(session.Id, keys)!.Value.Who.Name);
        Assert.Null(sessions.Find("made-up", keys));
        Assert.Null(sessions.Find(null, keys));
    }

    [Fact(DisplayName = "a session ends after the idle timeout, after the maximum age even when used, and at logout")]
    public void Expiry()
    {
        var (sessions, keys, session) = LoggedIn();
        _time.Now += DashboardSessions.IdleTimeout - TimeSpan.FromSeconds(1);
        Assert.NotNull(sessions.Find(session.Id, keys));
        _time.Now += DashboardSessions.IdleTimeout + TimeSpan.FromSeconds(1);
        Assert.Null(sessions.Find(session.Id, keys));

        var used = sessions.Create("ops", keys.Current("ops")!.Sha256);
        for (var elapsed = TimeSpan.Zero; elapsed < DashboardSessions.MaxAge; elapsed += TimeSpan.FromMinutes(20))
        {
            Assert.NotNull(sessions.Find(used.Id, keys));
            _time.Now += TimeSpan.FromMinutes(20);
        }
        _time.Now += TimeSpan.FromMinutes(1);
        Assert.Null(sessions.Find(used.Id, keys));

        var ended = sessions.Create("ops", keys.Current("ops")!.Sha256);
        sessions.End(ended.Id);
        Assert.Null(sessions.Find(ended.Id, keys));
    }

    [Fact(DisplayName = "a session ends when its key is revoked or replaced in the keys file, and takes the key's roles as they are now")]
    public void KeyChanges()
    {
        var (sessions, keys, session) = LoggedIn();
        Write(KeysFileEntry.For(_key, ["operator"], ["billing"]));
        Assert.True(keys.ReloadIfChanged());
        Assert.Equal("billing", sessions.Find(session.Id, keys)!.Value.Who.NamespacesText);

        Write(KeysFileEntry.For(ApiKey.Generate("ops"), ["operator"], ["*"])); // same id, new secret
        Assert.True(keys.ReloadIfChanged());
        Assert.Null(sessions.Find(session.Id, keys));

        Write(KeysFileEntry.For(_key, ["operator"], ["*"]));
        keys.ReloadIfChanged();
        var again = sessions.Create("ops", keys.Current("ops")!.Sha256);
        Write(KeysFileEntry.For(ApiKey.Generate("other"), ["operator"], ["*"])); // ops revoked
        keys.ReloadIfChanged();
        Assert.Null(sessions.Find(again.Id, keys));
    }

    [Fact(DisplayName = "sessions are bounded: past the maximum the least recently used goes")]
    public void Bounded()
    {
        var (sessions, keys, first) = LoggedIn();
        var sha = keys.Current("ops")!.Sha256;
        for (var i = 0; i < DashboardSessions.MaxSessions + 10; i++)
        {
            _time.Now += TimeSpan.FromMilliseconds(1);
            sessions.Create("ops", sha);
        }
        Assert.Equal(DashboardSessions.MaxSessions, sessions.Count);
        Assert.Null(sessions.Find(first.Id, keys));
    }
}
