using System.Collections.Concurrent;
using System.Text.Json;
using Conduit.Protocol.Security;
using Conduit.Protocol;
using Conduit.Server.Security;
using Conduit.Testing;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Conduit.Server.Tests.Security;

public sealed class KeyStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("conduit-keys-").FullName;
    private readonly string _path;
    private readonly CapturingLogger _log = new();

    public KeyStoreTests() => _path = Path.Combine(_dir, "keys.json");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Entry(string key, string roles = "\"producer\"", string namespaces = "\"default\"") =>
        $$"""{"id": "{{key[..key.IndexOf('.')]}}", "sha256": "{{ApiKey.Sha256Hex(key)}}", "roles": [{{roles}}], "namespaces": [{{namespaces}}]}""";

    private void Write(params string[] entries) => File.WriteAllText(_path, $$"""{"keys": [{{string.Join(",\n", entries)}}]}""");

    private KeyStore Load() => KeyStore.Load(_path, _log, Timeout.InfiniteTimeSpan);

    [Fact(DisplayName = "a keys file loads, and a key authenticates as its id with its roles and namespaces")]
    public void LoadsAndAuthenticates()
    {
        var alice = ApiKey.Generate("alice");
        var ops = ApiKey.Generate("ops");
        Write(Entry(alice, "\"producer\", \"worker\"", "\"billing\", \"default\""), Entry(ops, "\"operator\"", "\"*\""));
        using var store = Load();

        Assert.False(store.IsOpen);
        Assert.Equal(["alice", "ops"], store.Ids.Order());
        Assert.True(store.TryAuthenticate(alice, out var who));
        Assert.Equal("alice", who.Name);
        Assert.Equal(Role.Producer | Role.Worker, who.Roles);
        Assert.True(who.CanUse("billing"));
        Assert.False(who.CanUse("other"));
        Assert.True(store.TryAuthenticate(ops, out var op));
        Assert.True(op.IsInEveryNamespace);
        Assert.Equal(Role.Operator, op.Roles);
        Assert.Null(store.Authenticate(ops, out _));
    }

    [Fact(DisplayName = "a wrong secret, an unknown id, a malformed or a missing key is refused with Unauthorized and the secret is never echoed")]
    public void Refusals()
    {
        var alice = ApiKey.Generate("alice");
        Write(Entry(alice));
        using var store = Load();

        var wrongSecret = ApiKey.Generate("alice");
        var unknown = ApiKey.Generate("mallory");
        foreach (var key in new[] { wrongSecret, unknown, alice + "x", "alice", "alice.short", "", null, new string('a', 500) })
        {
            Assert.False(store.TryAuthenticate(key, out _), key);
            var refusal = store.Authenticate(key, out _);
            Assert.NotNull(refusal);
            Assert.Equal(ErrorCode.Unauthorized, refusal.Code);
            if (key is { Length: > 0 } && key.Contains('.')) Assert.DoesNotContain(key[(key.IndexOf('.') + 1)..], refusal.Message);
        }
        // An unknown id and a wrong secret are told apart by nothing: the same answer.
        Assert.Equal(store.Authenticate(wrongSecret, out _)!.Message.Replace("alice", "X"), store.Authenticate(unknown, out _)!.Message.Replace("mallory", "X"));
        Assert.Contains("requires an API key", store.Authenticate(null, out _)!.Message);
    }

    [Fact(DisplayName = "without a keys file the store is open: everyone is the anonymous identity")]
    public void Open()
    {
        using var store = KeyStore.Open();
        Assert.True(store.IsOpen);
        Assert.True(store.TryAuthenticate(null, out var who));
        Assert.Same(Identity.Anonymous, who);
        Assert.True(store.TryAuthenticate("whatever", out who));
        Assert.Equal(Role.All, who.Roles);
        Assert.True(who.CanUse("any"));
        Assert.False(store.ReloadIfChanged());
    }

    public static TheoryData<string, string> BadFiles()
    {
        var key = ApiKey.Generate("alice");
        var hash = ApiKey.Sha256Hex(key);
        return new TheoryData<string, string>
        {
            { $$"""{"keys": [{{Entry(key)}}, {{Entry(key)}}]}""", "keys[1] (id 'alice'): duplicate id" },
            { """{"keys": [{"id": "alice", "sha256": "abc", "roles": ["producer"], "namespaces": ["default"]}]}""", "keys[0] (id 'alice'): \"sha256\" must be 64 hex characters" },
            { $$"""{"keys": [{"id": "alice", "sha256": "{{new string('g', 64)}}", "roles": ["producer"], "namespaces": ["default"]}]}""", "\"sha256\" must be 64 hex" },
            { $$"""{"keys": [{"id": "alice", "sha256": "{{hash}}", "roles": ["admin"], "namespaces": ["default"]}]}""", "keys[0] (id 'alice'): unknown role 'admin': use producer, worker, operator" },
            { $$"""{"keys": [{"id": "alice", "sha256": "{{hash}}", "roles": [], "namespaces": ["default"]}]}""", "\"roles\" is missing or empty" },
            { $$"""{"keys": [{"id": "alice", "sha256": "{{hash}}", "roles": ["worker"], "namespaces": ["Bad NS"]}]}""", "keys[0] (id 'alice'): invalid namespace name 'Bad NS'" },
            { $$"""{"keys": [{"id": "alice", "sha256": "{{hash}}", "roles": ["worker"], "namespaces": ["*", "default"]}]}""", "\"*\" already means every namespace" },
            { $$"""{"keys": [{"id": "alice", "sha256": "{{hash}}", "roles": ["worker"]}]}""", "\"namespaces\" is missing or empty" },
            { $$"""{"keys": [{"id": "alice", "sha256": "{{hash}}", "role": ["worker"], "namespaces": ["default"]}]}""", "(line 1, at $.keys[0].role): The JSON property 'role' could not be mapped" },
            { $$"""{"keys": [{"id": "Alice", "sha256": "{{hash}}", "roles": ["worker"], "namespaces": ["default"]}]}""", "keys[0]: invalid key id 'Alice'" },
            { $$"""{"keys": [{"sha256": "{{hash}}", "roles": ["worker"], "namespaces": ["default"]}]}""", "keys[0]: \"id\" is missing" },
            { "{\"keys\": [\n}", "not a valid keys file (line 2" },
            { """{"users": []}""", "not a valid keys file" },
            { """[]""", "not a valid keys file" },
            { "", "not a valid keys file" },
        };
    }

    [Theory(DisplayName = "a bad keys file is a startup error naming the file, the entry and the problem")]
    [MemberData(nameof(BadFiles))]
    public void BadFile(string json, string message)
    {
        File.WriteAllText(_path, json);
        var e = Assert.Throws<KeysFileException>(Load);
        Assert.Contains(_path, e.Message);
        Assert.True(e.Message.Contains(message, StringComparison.Ordinal), e.Message);
    }

    [Fact(DisplayName = "a missing keys file is a startup error")]
    public void MissingFile() => Assert.Contains("keys file not found", Assert.Throws<KeysFileException>(Load).Message);

    [Fact(DisplayName = "a keys file with comments, trailing commas, a byte order mark and uppercase hex loads")]
    public void Lenient()
    {
        var key = ApiKey.Generate("alice");
        File.WriteAllText(_path, $$"""
            // made by conduit keys new
            {"keys": [
              {"id": "alice", "sha256": "{{ApiKey.Sha256Hex(key).ToUpperInvariant()}}", "roles": ["worker"], "namespaces": ["default"],},
            ]}
            """, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        using var store = Load();
        Assert.True(store.TryAuthenticate(key, out _));
    }

    [Fact(DisplayName = "a reload picks up an added key and drops a removed one")]
    public void ReloadAddsAndRemoves()
    {
        var alice = ApiKey.Generate("alice");
        var bob = ApiKey.Generate("bob");
        Write(Entry(alice));
        using var store = Load();
        Assert.False(store.TryAuthenticate(bob, out _));
        Assert.False(store.ReloadIfChanged());

        Write(Entry(alice), Entry(bob, "\"worker\""));
        Assert.True(store.ReloadIfChanged());
        Assert.True(store.TryAuthenticate(bob, out var who));
        Assert.Equal(Role.Worker, who.Roles);

        Write(Entry(bob, "\"worker\""));
        Assert.True(store.ReloadIfChanged());
        Assert.False(store.TryAuthenticate(alice, out _));
        Assert.True(store.TryAuthenticate(bob, out _));
        Assert.Contains(_log.Lines, l => l.Contains("removed [alice]"));
    }

    [Fact(DisplayName = "an invalid keys file on reload keeps the keys in force and logs one error")]
    public void InvalidReloadKeepsKeys()
    {
        var alice = ApiKey.Generate("alice");
        Write(Entry(alice));
        using var store = Load();

        File.WriteAllText(_path, """{"keys": [{"id": "alice", "sha256": "nope"}]}""");
        Assert.False(store.ReloadIfChanged());
        Assert.False(store.ReloadIfChanged());
        Assert.True(store.TryAuthenticate(alice, out _));
        Assert.Single(_log.Lines, l => l.StartsWith("Error") && l.Contains("keeping the 1 keys in force"));

        File.Delete(_path);
        Assert.False(store.ReloadIfChanged());
        Assert.True(store.TryAuthenticate(alice, out _));

        var bob = ApiKey.Generate("bob");
        Write(Entry(bob));
        Assert.True(store.ReloadIfChanged());
        Assert.True(store.TryAuthenticate(bob, out _));
        Assert.False(store.TryAuthenticate(alice, out _));
    }

    [Fact(DisplayName = "the store checks the keys file by itself and picks up a change without a restart")]
    public async Task ReloadsByItself()
    {
        var alice = ApiKey.Generate("alice");
        var bob = ApiKey.Generate("bob");
        Write(Entry(alice));
        using var store = KeyStore.Load(_path, _log, TimeSpan.FromMilliseconds(50));
        Write(Entry(alice), Entry(bob));
        await Eventually.Holds(() =>
        {
            Assert.True(store.TryAuthenticate(bob, out _));
            return Task.CompletedTask;
        });
    }

    [Fact(DisplayName = "authentication is safe while the file is reloaded from another thread")]
    public async Task Concurrent()
    {
        var alice = ApiKey.Generate("alice");
        var bob = ApiKey.Generate("bob");
        Write(Entry(alice));
        using var store = Load();
        var failures = 0;
        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 2).Select(n => Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
                if (!store.TryAuthenticate(alice, out _)) Interlocked.Increment(ref failures);
        })).ToArray();
        for (var i = 0; i < 20; i++)
        {
            Write(Entry(alice), Entry(bob, namespaces: $"\"ns{i}\""));
            store.ReloadIfChanged();
        }
        await stop.CancelAsync();
        await Task.WhenAll(readers);
        Assert.Equal(0, failures);
        Assert.True(store.TryAuthenticate(bob, out var who));
        Assert.True(who.CanUse("ns19"));
    }

    [Fact(DisplayName = "the entry conduit keys new prints is what the store reads")]
    public void EntryFormat()
    {
        var key = ApiKey.Generate("alice");
        var entry = KeysFileEntry.For(key, ["worker"], ["billing"]);
        File.WriteAllText(_path, JsonSerializer.Serialize(new { keys = new[] { entry } }));
        using var store = Load();
        Assert.True(store.TryAuthenticate(key, out var who));
        Assert.True(who.CanUse("billing"));
    }

    private sealed class CapturingLogger : ILogger
    {
        private readonly ConcurrentQueue<string> _lines = new();
        public IReadOnlyCollection<string> Lines => _lines;
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _lines.Enqueue($"{logLevel}: {formatter(state, exception)}");
    }
}
