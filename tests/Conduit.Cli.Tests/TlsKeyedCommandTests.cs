using System.Text.Json;
using Conduit.Protocol;
using Conduit.Protocol.Security;
using Conduit.Server.Hosting;
using Conduit.Testing;
using Xunit;

namespace Conduit.Cli.Tests;

/// <summary>
/// One real node with mutual TLS on both endpoints (<see cref="TestCertificates"/>, CA "A") and a keys file: an operator
/// of <c>default</c>, an operator of every namespace, a producer of <c>default</c>, and a key for namespace
/// <c>billing</c> only (every role).
/// </summary>
public sealed class TlsKeyedNodeFixture : IAsyncLifetime
{
    public TestCertificates Certificates { get; } = new();

    /// <summary>Keys by name; each key's id is its name.</summary>
    public Dictionary<string, string> Keys { get; } = new()
    {
        ["ops"] = ApiKey.Generate("ops"),
        ["admin"] = ApiKey.Generate("admin"),
        ["producer"] = ApiKey.Generate("producer"),
        ["billing"] = ApiKey.Generate("billing"),
    };

    public TestNode Node { get; private set; } = null!;
    public LogCollector Log { get; private set; } = null!;
    public string Server => $"127.0.0.1:{Node.Port}";
    private string KeysFile => Path.Combine(Certificates.Directory, "keys.json");

    /// <summary>The CLI against this node with the client certificate of CA "A" and, when <paramref name="key"/> names one, that key.</summary>
    public Task<CliResult> Cli(string? key, params string[] args) =>
        CliProcess.Run(["--server", Server, "--tls-cert", Certificates.ClientA, "--tls-ca", Certificates.CaA,
            .. key is null ? Array.Empty<string>() : ["--api-key", Keys[key]], .. args]);

    public async Task InitializeAsync()
    {
        KeysFileEntry[] entries =
        [
            KeysFileEntry.For(Keys["ops"], ["operator"], [PartitionId.DefaultNamespace]),
            KeysFileEntry.For(Keys["admin"], ["operator"], [KeysFileEntry.AllNamespaces]),
            KeysFileEntry.For(Keys["producer"], ["producer"], [PartitionId.DefaultNamespace]),
            KeysFileEntry.For(Keys["billing"], ["producer", "worker", "operator"], ["billing"]),
        ];
        await File.WriteAllTextAsync(KeysFile, JsonSerializer.Serialize(new { keys = entries }));
        Node = await TestNode.StartAsync(new NodeSettings
        {
            Port = 0, ClusterPort = 0, Storage = TestStores.NewSqlite(), KeysFile = KeysFile,
            Tls = TestCertificates.Settings(Certificates.NodeA, Certificates.CaA),
            Server = new ConduitServerOptions { Partition = TestNode.FastPartitionOptions },
        });
        Log = LogCollector.Attach(Node.System);
    }

    public async Task DisposeAsync()
    {
        await Node.DisposeAsync();
        Certificates.Dispose();
    }
}

/// <summary>
/// The real <c>conduit</c> CLI against a node with mutual TLS and API keys (issue #9): with the client certificate and a
/// key that covers the request it works; a key without the role or the namespace, or no key, is refused Unauthorized
/// (exit 1); without TLS options the node is unreachable (exit 3) within <c>--timeout</c>.
/// </summary>
public sealed class TlsKeyedCommandTests(TlsKeyedNodeFixture fixture, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<TlsKeyedNodeFixture>
{
    private static CliResult Ok(CliResult r)
    {
        Assert.True(r.ExitCode == 0, r.ToString());
        return r;
    }

    private static void Unauthorized(CliResult r)
    {
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.StartsWith("Unauthorized: ", r.Err);
        Assert.Equal("", r.Out);
    }

    [Fact(DisplayName = "TLS + operator key: enqueue, queue stats, poll --complete, task get work; queues and cluster show with an operator key of every namespace")]
    public async Task OperatorWorks()
    {
        const string q = "tls-ops";
        var enqueued = Ok(await fixture.Cli("ops", "enqueue", q, "--payload", "secure", "--json")).Json;
        var id = enqueued.GetProperty("taskIds")[0].GetString()!;
        Assert.StartsWith($"default/{q}#", id);
        Ok(await fixture.Cli("ops", "enqueue", q, "--count", "2"));

        var stats = Ok(await fixture.Cli("ops", "queue", "stats", q, "--json")).Json;
        Assert.Equal(3, stats.GetProperty("ready").GetInt32());

        var polled = Ok(await fixture.Cli("ops", "poll", q, "--max", "3", "--complete", "--wait", "2s", "--json")).Json;
        Assert.Equal(3, polled.GetProperty("tasks").GetArrayLength());
        Assert.Contains(polled.GetProperty("tasks").EnumerateArray(), t => t.GetProperty("payload").GetString() == "secure");
        Assert.Equal("Completed", Ok(await fixture.Cli("ops", "task", "get", id, "--json")).Json.GetProperty("status").GetString());

        var queues = Ok(await fixture.Cli("admin", "queues"));
        Assert.Equal(["default", q, "0", "0"], queues.RowStartingWith("default", q)[..4]);
        var shown = Ok(await fixture.Cli("admin", "cluster", "show", "--json")).Json;
        var self = fixture.Node.Address.ToString();
        Assert.StartsWith("akka.ssl.tcp://", self);
        Assert.Equal(self, shown.GetProperty("self").GetString());
        var member = Assert.Single(shown.GetProperty("members").EnumerateArray());
        Assert.Equal(("Up", true), (member.GetProperty("status").GetString(), member.GetProperty("reachable").GetBoolean()));

        // Cluster-wide requests need an operator of every namespace: the operator of `default` is refused them.
        Unauthorized(await fixture.Cli("ops", "queues"));
        Unauthorized(await fixture.Cli("ops", "cluster", "show"));
    }

    [Fact(DisplayName = "TLS and the key from CONDUIT_TLS_CERT, CONDUIT_TLS_CA and CONDUIT_API_KEY work as the options do")]
    public async Task FromEnvironment()
    {
        var environment = new Dictionary<string, string>
        {
            ["CONDUIT_TLS_CERT"] = fixture.Certificates.ClientA,
            ["CONDUIT_TLS_CA"] = fixture.Certificates.CaA,
            ["CONDUIT_API_KEY"] = fixture.Keys["ops"],
        };
        Assert.Matches(@"^enqueued default/tls-env#0:\d+\s*$", Ok(await CliProcess.Run(environment, "--server", fixture.Server, "enqueue", "tls-env", "--payload", "e")).Out);
        var stats = Ok(await CliProcess.Run(environment, "--server", fixture.Server, "queue", "stats", "tls-env", "--json")).Json;
        Assert.Equal(1, stats.GetProperty("ready").GetInt32());
        environment["CONDUIT_API_KEY"] = fixture.Keys["admin"];
        Ok(await CliProcess.Run(environment, "--server", fixture.Server, "cluster", "show"));
    }

    [Fact(DisplayName = "a producer key can enqueue, but queue purge (and stats, poll) exit 1 with Unauthorized; the operator's purge is logged with its key id")]
    public async Task ProducerIsRefusedOperatorWork()
    {
        const string q = "tls-producer";
        Assert.Matches($@"^enqueued default/{q}#0:\d+\s*$", Ok(await fixture.Cli("producer", "enqueue", q, "--payload", "p")).Out);
        Ok(await fixture.Cli("producer", "enqueue", q, "--count", "2"));

        Unauthorized(await fixture.Cli("producer", "queue", "purge", q));
        Unauthorized(await fixture.Cli("producer", "queue", "stats", q));
        Unauthorized(await fixture.Cli("producer", "poll", q, "--wait", "300ms"));
        var json = await fixture.Cli("producer", "queue", "purge", q, "--json");
        Assert.Equal(1, json.ExitCode);
        var error = json.Json.GetProperty("error");
        Assert.Equal(("refused", "Unauthorized"), (error.GetProperty("kind").GetString(), error.GetProperty("code").GetString()));

        Assert.Equal(3, Ok(await fixture.Cli("ops", "queue", "stats", q, "--json")).Json.GetProperty("ready").GetInt32());
        Assert.Equal($"purged 3 tasks from {q}", Ok(await fixture.Cli("ops", "queue", "purge", q)).Out.Trim());
        await Eventually.Holds(() =>
        {
            Assert.Contains(fixture.Log.Lines, l => l.Contains("ops@akka.ssl.tcp://") && l.Contains($"purged queue default/{q}"));
            return Task.CompletedTask;
        });
    }

    [Fact(DisplayName = "with TLS but no key every command is refused Unauthorized, queue and cluster commands alike")]
    public async Task NoKey()
    {
        Unauthorized(await fixture.Cli(null, "enqueue", "tls-nokey", "--payload", "x"));
        Unauthorized(await fixture.Cli(null, "queue", "stats", "tls-nokey"));
        Unauthorized(await fixture.Cli(null, "queues"));
        Unauthorized(await fixture.Cli(null, "cluster", "show"));
    }

    [Theory(DisplayName = "without TLS options (or with a client certificate of another CA) the TLS node is unreachable: exit 3 within --timeout")]
    [InlineData(false, "enqueue", "tls-plain", "--payload", "x")]
    [InlineData(false, "queue", "stats", "tls-plain")]
    [InlineData(false, "cluster", "show")]
    [InlineData(true, "enqueue", "tls-plain", "--payload", "x")]
    [InlineData(true, "cluster", "show")]
    public async Task WithoutTlsUnreachable(bool otherCa, params string[] command)
    {
        string[] tls = otherCa ? ["--tls-cert", fixture.Certificates.ClientB, "--tls-ca", fixture.Certificates.CaBoth] : [];
        var r = await CliProcess.Run(["--server", fixture.Server, "--timeout", "5s", "--api-key", fixture.Keys["admin"], .. tls, .. command]);
        output.WriteLine(r.ToString());
        Assert.True(r.ExitCode == 3, r.ToString());
        Assert.Equal("", r.Out);
        Assert.Contains(fixture.Server, r.Err);
        // 5 s of --timeout, plus the process's own start and stop (the dotnet host, an ActorSystem).
        Assert.True(r.Elapsed < TimeSpan.FromSeconds(20), r.ToString());
        Assert.True(r.Elapsed >= TimeSpan.FromSeconds(4), $"gave up before --timeout: {r}");
    }

    [Fact(DisplayName = "the billing key works in namespace billing (-n billing or CONDUIT_NAMESPACE) and is Unauthorized in default")]
    public async Task BillingKey()
    {
        const string q = "tls-billing";
        Assert.Matches($@"^enqueued billing/{q}#0:\d+\s*$", Ok(await fixture.Cli("billing", "enqueue", q, "-n", "billing", "--payload", "invoice")).Out);
        Assert.Equal(1, Ok(await fixture.Cli("billing", "queue", "stats", q, "-n", "billing", "--json")).Json.GetProperty("ready").GetInt32());
        var inEnvironment = Ok(await CliProcess.Run(new Dictionary<string, string> { ["CONDUIT_NAMESPACE"] = "billing", ["CONDUIT_API_KEY"] = fixture.Keys["billing"] },
            "--server", fixture.Server, "--tls-cert", fixture.Certificates.ClientA, "--tls-ca", fixture.Certificates.CaA,
            "poll", q, "--complete", "--wait", "2s", "--json")).Json;
        Assert.Equal("invoice", Assert.Single(inEnvironment.GetProperty("tasks").EnumerateArray()).GetProperty("payload").GetString());

        Unauthorized(await fixture.Cli("billing", "enqueue", q, "--payload", "x"));
        Unauthorized(await fixture.Cli("billing", "queue", "stats", q));
        Unauthorized(await fixture.Cli("billing", "poll", q, "--wait", "300ms"));
        Unauthorized(await fixture.Cli("billing", "queue", "purge", q));
        Unauthorized(await fixture.Cli("billing", "queues")); // cluster-wide: needs "*"
        Assert.Equal(0, Ok(await fixture.Cli("ops", "queue", "stats", q, "--json")).Json.GetProperty("ready").GetInt32());
        // The operator of default may not look into billing.
        Unauthorized(await fixture.Cli("ops", "queue", "stats", q, "-n", "billing"));
    }
}

/// <summary>
/// The documented flow (docs/tls.md, docs/credentials.md): the files <c>conduit certs create</c> and <c>conduit keys new</c>
/// write, used as they are, make a node the CLI can talk to.
/// </summary>
public sealed class DocumentedSecurityFlowTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("conduit-flow-").FullName;

    [Theory(DisplayName = "certs create + keys new output, used as files, make a TLS node with keys that the CLI can use")]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CertsAndKeysMakeAWorkingNode(bool password)
    {
        var certs = Path.Combine(_dir, "certs");
        string[] secret = password ? ["--password", "s3cret"] : [];
        var created = await CliProcess.Run(["certs", "create", "--out", certs, "--host", "127.0.0.1", "--client", "ops", .. secret]);
        Assert.True(created.ExitCode == 0, created.ToString());

        // keys new prints the key, then its entry: the entry goes into the node's keys file, the key to the CLI.
        var ops = await CliProcess.Run("keys", "new", "--id", "ops", "--role", "operator", "--namespace", "*");
        Assert.True(ops.ExitCode == 0, ops.ToString());
        var producer = await CliProcess.Run("keys", "new", "--id", "app", "--role", "producer");
        Assert.True(producer.ExitCode == 0, producer.ToString());
        var (opsKey, opsEntry) = KeyAndEntry(ops);
        var (producerKey, producerEntry) = KeyAndEntry(producer);
        var keysFile = Path.Combine(_dir, "keys.json");
        await File.WriteAllTextAsync(keysFile, $$"""
            {
              "keys": [
                {{opsEntry}},
                {{producerEntry}}
              ]
            }
            """);

        await using var node = await TestNode.StartAsync(new NodeSettings
        {
            Port = 0, ClusterPort = 0, Storage = TestStores.NewSqlite(), KeysFile = keysFile,
            Tls = new Conduit.Protocol.Remoting.TlsSettings
            {
                CertificatePath = Path.Combine(certs, "node.pfx"), CertificatePassword = password ? "s3cret" : null, CaPath = Path.Combine(certs, "ca.pem"),
            },
            Server = new ConduitServerOptions { Partition = TestNode.FastPartitionOptions },
        });
        var environment = new Dictionary<string, string>
        {
            ["CONDUIT_TLS_CERT"] = Path.Combine(certs, "client-ops.pfx"),
            ["CONDUIT_TLS_CA"] = Path.Combine(certs, "ca.pem"),
        };
        if (password) environment["CONDUIT_TLS_CERT_PASSWORD"] = "s3cret";
        Task<CliResult> Cli(string key, params string[] args) =>
            CliProcess.Run(environment, ["--server", $"127.0.0.1:{node.Port}", "--api-key", key, .. args]);

        var enqueued = await Cli(producerKey, "enqueue", "flow", "--payload", "hello");
        Assert.True(enqueued.ExitCode == 0, enqueued.ToString());
        var stats = await Cli(opsKey, "queue", "stats", "flow", "--json");
        Assert.True(stats.ExitCode == 0, stats.ToString());
        Assert.Equal(1, stats.Json.GetProperty("ready").GetInt32());
        var shown = await Cli(opsKey, "cluster", "show");
        Assert.True(shown.ExitCode == 0, shown.ToString());
        Assert.Equal("Up", shown.Row(node.Address.ToString())[2]);
        var refused = await Cli(producerKey, "queue", "purge", "flow");
        Assert.True(refused.ExitCode == 1 && refused.Err.StartsWith("Unauthorized: "), refused.ToString());
    }

    private static (string Key, string Entry) KeyAndEntry(CliResult r)
    {
        var lines = r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(2, lines.Length);
        return (lines[0], lines[1]);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
