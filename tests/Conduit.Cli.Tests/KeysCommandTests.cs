using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Conduit.Server.Security;
using Xunit;

namespace Conduit.Cli.Tests;

/// <summary><c>conduit keys new | hash</c>: keys and keys-file entries, made without a node.</summary>
public sealed class KeysCommandTests
{
    private static string Sha256Hex(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant();

    [Fact(DisplayName = "keys new prints the key and its entry, whose hash is the SHA-256 of the key")]
    public async Task New()
    {
        var r = await CliProcess.Run("keys", "new", "--id", "billing-worker", "--role", "worker", "--role", "producer", "--namespace", "billing");
        Assert.True(r.ExitCode == 0, r.ToString());
        var lines = r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        var key = lines[0].Trim();
        Assert.StartsWith("billing-worker.", key);
        var entry = JsonDocument.Parse(lines[1]).RootElement;
        Assert.Equal("billing-worker", entry.GetProperty("id").GetString());
        Assert.Equal(Sha256Hex(key), entry.GetProperty("sha256").GetString());
        Assert.Equal(["worker", "producer"], entry.GetProperty("roles").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["billing"], entry.GetProperty("namespaces").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("shown only this once", r.Err);
        Assert.DoesNotContain(key, r.Err);
    }

    [Fact(DisplayName = "keys new --json prints the key and the entry as one document, and the namespace defaults to default")]
    public async Task NewJson()
    {
        var r = await CliProcess.Run("keys", "new", "--id", "ops", "--role", "operator", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        var key = r.Json.GetProperty("key").GetString()!;
        var entry = r.Json.GetProperty("entry");
        Assert.Equal(Sha256Hex(key), entry.GetProperty("sha256").GetString());
        Assert.Equal(["default"], entry.GetProperty("namespaces").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact(DisplayName = "a key made by keys new is accepted by a node's key store that holds its entry, with its roles and namespaces")]
    public async Task EntryWorksOnANode()
    {
        var r = await CliProcess.Run("keys", "new", "--id", "alice", "--role", "producer", "-n", "billing", "-n", "ops", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        var key = r.Json.GetProperty("key").GetString()!;
        var path = Path.Combine(Directory.CreateTempSubdirectory("conduit-keys-").FullName, "keys.json");
        await File.WriteAllTextAsync(path, $$"""{"keys": [{{r.Json.GetProperty("entry").GetRawText()}}]}""");
        try
        {
            using var store = KeyStore.Load(path, reloadInterval: Timeout.InfiniteTimeSpan);
            Assert.True(store.TryAuthenticate(key, out var who));
            Assert.Equal("alice", who.Name);
            Assert.Equal(Role.Producer, who.Roles);
            Assert.True(who.CanUse("billing") && who.CanUse("ops") && !who.CanUse("default"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact(DisplayName = "keys hash prints the entry of an existing key, read from the command line or from stdin")]
    public async Task Hash()
    {
        var made = await CliProcess.Run("keys", "new", "--id", "bob", "--role", "worker", "--json");
        var key = made.Json.GetProperty("key").GetString()!;

        var fromArg = await CliProcess.Run("keys", "hash", key, "--role", "worker", "--namespace", "*", "--json");
        Assert.True(fromArg.ExitCode == 0, fromArg.ToString());
        Assert.Equal(Sha256Hex(key), fromArg.Json.GetProperty("entry").GetProperty("sha256").GetString());
        Assert.Equal(["*"], fromArg.Json.GetProperty("entry").GetProperty("namespaces").EnumerateArray().Select(e => e.GetString()));

        var fromStdin = await CliProcess.RunWithInput(null, key + "\n", "keys", "hash", "-", "--role", "worker");
        Assert.True(fromStdin.ExitCode == 0, fromStdin.ToString());
        Assert.Equal(made.Json.GetProperty("entry").GetRawText().Replace(" ", "").Replace("\n", "").Replace("\r", ""),
            fromStdin.Out.Trim());
    }

    [Theory(DisplayName = "a bad keys command line exits 2, says why, and prints no key")]
    [InlineData("invalid key id 'Alice'", "keys", "new", "--id", "Alice", "--role", "worker")]
    [InlineData("--role 'admin' is not a role: use producer, worker, operator", "keys", "new", "--id", "a", "--role", "admin")]
    [InlineData("Option '--role' is required", "keys", "new", "--id", "a")]
    [InlineData("--namespace 'Bad!' is not a namespace name", "keys", "new", "--id", "a", "--role", "worker", "--namespace", "Bad!")]
    [InlineData("'*' already means every namespace", "keys", "new", "--id", "a", "--role", "worker", "-n", "*", "-n", "x")]
    [InlineData("the API key is not of the form id.secret", "keys", "hash", "alice.tooshort", "--role", "worker")]
    public async Task BadCommandLine(string message, params string[] args)
    {
        var r = await CliProcess.Run(args);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains(message, r.Err);
        Assert.Equal("", r.Out);
    }

    [Fact(DisplayName = "a malformed --api-key or CONDUIT_API_KEY is a usage error that does not print the key")]
    public async Task MalformedApiKeyIsNotEchoed()
    {
        const string secretish = "alice.this-is-not-long";
        var r = await CliProcess.Run("--server", "127.0.0.1:1", "--api-key", secretish, "queues");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("--api-key: the API key is not of the form id.secret", r.Err);
        Assert.DoesNotContain("this-is-not-long", r.Err + r.Out);

        var env = await CliProcess.Run(new Dictionary<string, string> { ["CONDUIT_API_KEY"] = secretish }, "--server", "127.0.0.1:1", "queues", "--json");
        Assert.True(env.ExitCode == 2, env.ToString());
        Assert.Contains("CONDUIT_API_KEY: the API key is not of the form id.secret", env.Err);
        Assert.DoesNotContain("this-is-not-long", env.Err + env.Out);
    }
}
