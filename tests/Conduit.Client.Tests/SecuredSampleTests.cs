using System.Text.Json;
using System.Text.RegularExpressions;
using Conduit.Protocol.Security;
using Conduit.Server.Hosting;
using Conduit.Testing;

namespace Conduit.Client.Tests;

/// <summary>
/// A node with mutual TLS (<see cref="TestCertificates"/>, CA "A") and a keys file: a producer key and a worker key for
/// namespaces <c>default</c> and <c>billing</c>, and an operator key of every namespace for the test's own checks.
/// </summary>
public sealed class SecuredSampleNodeFixture : IAsyncLifetime
{
    public TestCertificates Certificates { get; } = new();
    public string ProducerKey { get; } = ApiKey.Generate("sample-producer");
    public string WorkerKey { get; } = ApiKey.Generate("sample-worker");
    public string OperatorKey { get; } = ApiKey.Generate("sample-ops");

    public TestNode Node { get; private set; } = null!;

    /// <summary>A client of the operator key and the given namespace, with the client certificate.</summary>
    public ConduitClient Operator(string ns) => new(new ConduitClientOptions
    {
        Servers = [Node.Server], Namespace = ns, ApiKey = OperatorKey,
        TlsCertificatePath = Certificates.ClientA, TlsCaPath = Certificates.CaA,
    });

    public async Task InitializeAsync()
    {
        var keysFile = Path.Combine(Certificates.Directory, "keys.json");
        string[] namespaces = [PartitionId.DefaultNamespace, "billing"];
        KeysFileEntry[] entries =
        [
            KeysFileEntry.For(ProducerKey, ["producer"], namespaces),
            KeysFileEntry.For(WorkerKey, ["worker"], namespaces),
            KeysFileEntry.For(OperatorKey, ["operator"], [KeysFileEntry.AllNamespaces]),
        ];
        await File.WriteAllTextAsync(keysFile, JsonSerializer.Serialize(new { keys = entries }));
        Node = await TestNode.StartAsync(new NodeSettings
        {
            Port = 0, ClusterPort = 0, Storage = TestStores.NewSqlite(), KeysFile = keysFile,
            Tls = TestCertificates.Settings(Certificates.NodeA, Certificates.CaA),
            Server = new ConduitServerOptions { Partition = TestNode.FastPartitionOptions },
        });
    }

    public async Task DisposeAsync()
    {
        await Node.DisposeAsync();
        Certificates.Dispose();
    }
}

/// <summary>The samples as processes against a node with TLS and API keys (issue #9): the options and their environment variables.</summary>
public sealed partial class SecuredSampleTests(SecuredSampleNodeFixture fixture) : IClassFixture<SecuredSampleNodeFixture>
{
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(90);

    [GeneratedRegex(@"^enqueued (\S+) job \d+$", RegexOptions.Multiline)]
    private static partial Regex EnqueuedLine();

    [GeneratedRegex(@"^processed (\S+) job \d+ \(attempt 1\)$", RegexOptions.Multiline)]
    private static partial Regex ProcessedLine();

    private string[] Tls => ["--tls-cert", fixture.Certificates.ClientA, "--tls-ca", fixture.Certificates.CaA];

    [Fact(DisplayName = "with --tls-cert/--tls-ca and --api-key the sample producer enqueues and the sample worker processes every task")]
    public Task WithOptions()
    {
        var queue = "secured-" + Guid.NewGuid().ToString("N")[..8];
        string[] common = ["--server", fixture.Node.Server, "--queue", queue, "--count", "20", .. Tls];
        return ProducerThenWorker(queue, PartitionId.DefaultNamespace,
            producer: (null, [.. common, "--api-key", fixture.ProducerKey]),
            worker: (null, [.. common, "--api-key", fixture.WorkerKey]));
    }

    [Fact(DisplayName = "with CONDUIT_TLS_*, CONDUIT_API_KEY and CONDUIT_NAMESPACE (or --namespace) the samples work in namespace billing")]
    public Task FromEnvironment()
    {
        var queue = "secured-" + Guid.NewGuid().ToString("N")[..8];
        Dictionary<string, string> Environment(string key) => new()
        {
            ["CONDUIT_SERVER"] = fixture.Node.Server,
            ["CONDUIT_TLS_CERT"] = fixture.Certificates.ClientA,
            ["CONDUIT_TLS_CA"] = fixture.Certificates.CaA,
            ["CONDUIT_API_KEY"] = key,
        };
        var producerEnvironment = Environment(fixture.ProducerKey);
        producerEnvironment["CONDUIT_NAMESPACE"] = "billing";
        return ProducerThenWorker(queue, "billing",
            producer: (producerEnvironment, ["--queue", queue, "--count", "20"]),
            worker: (Environment(fixture.WorkerKey), ["--queue", queue, "--count", "20", "--namespace", "billing"]));
    }

    private async Task ProducerThenWorker(string queue, string ns,
        (Dictionary<string, string>? Environment, string[] Args) producer, (Dictionary<string, string>? Environment, string[] Args) worker)
    {
        var produced = await SampleProcess.RunAsync("Conduit.Samples.Producer", ProcessTimeout, producer.Environment, producer.Args);
        Assert.True(produced.ExitCode == 0, produced.Output);
        var enqueued = EnqueuedLine().Matches(produced.Output).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(20, enqueued.Distinct().Count());
        Assert.All(enqueued, id => Assert.StartsWith($"{ns}/{queue}#", id));
        Assert.Contains($"enqueued 20 tasks on queue {queue} in namespace {ns}", produced.Output);

        var processed = await SampleProcess.RunAsync("Conduit.Samples.Worker", ProcessTimeout, worker.Environment, worker.Args);
        Assert.True(processed.ExitCode == 0, processed.Output);
        Assert.Equal(enqueued.Order(), ProcessedLine().Matches(processed.Output).Select(m => m.Groups[1].Value).Order());

        await using var client = fixture.Operator(ns);
        foreach (var id in enqueued)
            await Eventually.Holds(async () => Assert.Equal(TaskStatus.Completed, (await client.GetTaskAsync(id)).Status));
        var stats = await client.GetQueueStatsAsync(queue);
        Assert.Equal((0L, 0L, 0L), (stats.Ready, stats.Running, stats.DeadLettered));
    }

    [Fact(DisplayName = "the sample producer with TLS but a worker's key is refused Unauthorized (exit 1) and enqueues nothing")]
    public async Task WrongRole()
    {
        var queue = "secured-" + Guid.NewGuid().ToString("N")[..8];
        var result = await SampleProcess.RunAsync("Conduit.Samples.Producer", ProcessTimeout,
            ["--server", fixture.Node.Server, "--queue", queue, "--count", "3", .. Tls, "--api-key", fixture.WorkerKey]);
        Assert.True(result.ExitCode == 1, result.Output);
        Assert.Contains("refused (Unauthorized)", result.Output);
        await using var client = fixture.Operator(PartitionId.DefaultNamespace);
        Assert.Equal(0L, (await client.GetQueueStatsAsync(queue)).Ready);
    }

    [Theory(DisplayName = "a sample given unusable security options exits 2, says why, prints its usage, and never echoes the key")]
    [InlineData("is not of the form id.secret", "--api-key", "alice.not-a-real-secret")]
    [InlineData("does not exist", "--tls-cert", "/nonexistent/client.pfx", "--tls-ca", "/nonexistent/ca.pem")]
    [InlineData("--tls-ca is missing", "--tls-cert", "/nonexistent/client.pfx")]
    [InlineData("--namespace: ", "--namespace", "Not/Valid")]
    public async Task BadSecurityOptions(string message, params string[] args)
    {
        var result = await SampleProcess.RunAsync("Conduit.Samples.Worker", ProcessTimeout, ["--server", fixture.Node.Server, .. args]);
        Assert.True(result.ExitCode == 2, result.Output);
        Assert.Contains(message, result.Output);
        Assert.Contains("Usage: Conduit.Samples.Worker", result.Output);
        Assert.DoesNotContain("not-a-real-secret", result.Output);
    }
}
