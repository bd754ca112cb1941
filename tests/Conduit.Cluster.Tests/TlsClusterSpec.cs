using System.Text.Json;
using Conduit.Client;
using Conduit.Protocol;
using Conduit.Protocol.Security;
using Conduit.Server.Hosting;
using Conduit.Testing;
using Xunit;
using static Conduit.Cluster.Tests.ClusterSpecSupport;

namespace Conduit.Cluster.Tests;

/// <summary>
/// A cluster of three nodes with mutual TLS on both endpoints and a keys file, over real remoting: it forms and serves
/// clients that hold a certificate of its CA and a key; a client without a certificate, or with one from another CA, gets
/// nothing through; a client certificate cannot reach the cluster endpoint (so cannot join or touch its insides).
/// </summary>
[Collection(PostgresFixture.CollectionName)]
public sealed class TlsClusterSpec(PostgresFixture pg, TestCertificates certs) : IClassFixture<TestCertificates>
{
    private readonly TestCertificates _certs = certs;

    [Fact(DisplayName = "a TLS cluster of three nodes forms and serves a client with a certificate and a key; clients without a certificate or with another CA's are refused")]
    public async Task TlsClusterServes()
    {
        var key = ApiKey.Generate("app");
        var keys = await KeysFile(KeysFileEntry.For(key, ["producer", "worker"], [PartitionId.DefaultNamespace]));
        var storage = await TestStores.NewPostgres(pg.Server);
        await using var a = await StartNode(storage, Both, seed: null, _certs.NodeA, keys);
        await using var b = await StartNode(storage, TaskService, a.Address.ToString(), _certs.NodeA2, keys);
        await using var c = await StartNode(storage, TaskService, a.Address.ToString(), _certs.NodeA, keys);
        await AllUp(3, a, b, c);
        Assert.Equal("akka.ssl.tcp", a.Address.Protocol);
        Assert.Equal("akka.ssl.tcp", a.ClientEndpoint.Address.Protocol);

        await using (var client = new ConduitClient(Options(a, _certs.ClientA, _certs.CaA, key)))
        {
            var queues = Enumerable.Range(0, 8).Select(i => $"tls-{i}").ToArray();
            foreach (var queue in queues) await client.EnqueueAsync(queue, $"task {queue}");
            var done = 0;
            foreach (var queue in queues)
            {
                var polled = await client.PollAsync(queue, maxTasks: 1, wait: TimeSpan.FromSeconds(5));
                var task = Assert.Single(polled);
                Assert.Equal($"task {queue}", task.PayloadText);
                await client.CompleteAsync(task.LeaseToken);
                done++;
            }
            Assert.Equal(queues.Length, done);
            // Partitions of those queues run on more than one node: the TLS links between nodes carry them.
            var hosts = new[] { a, b, c }.Select(n => n.HostedPartitions()).ToArray();
            Assert.True((await Task.WhenAll(hosts)).Count(h => h.Any(id => id.Contains("/tls-"))) >= 2, "every partition landed on one node");
        }

        var endpointLog = LogCollector.Attach(a.ClientEndpoint.System);
        await using (var plain = new ConduitClient(Options(a, certificate: null, ca: null, key)))
            await Assert.ThrowsAsync<ConduitUnreachableException>(() => plain.EnqueueAsync("tls-0", "plain"));
        await using (var stranger = new ConduitClient(Options(a, _certs.ClientB, _certs.CaBoth, key)))
        {
            await Assert.ThrowsAsync<ConduitUnreachableException>(() => stranger.EnqueueAsync("tls-0", "other CA"));
            await Eventually.Holds(() =>
            {
                Assert.Contains(endpointLog.Lines, l => l.Contains("refused peer"));
                return Task.CompletedTask;
            });
        }
    }

    [Fact(DisplayName = "a client certificate is refused at the cluster endpoint: it cannot select the cluster's insides or join")]
    public async Task ClientCertificateCannotReachClusterEndpoint()
    {
        var storage = await TestStores.NewPostgres(pg.Server);
        await using var node = await StartNode(storage, Both, seed: null, _certs.NodeA, keysFile: null);
        var clusterLog = LogCollector.Attach(node.System);
        using var credentials = TestCertificates.Load(_certs.ClientA, _certs.CaA);
        await using var attacker = Attacker.Against(node.Port, node.ClusterPort, credentials);

        // Through the client endpoint the same certificate is served.
        Assert.IsType<QueueStats>(await attacker.Ask(attacker.Frontend, new GetQueueStats("tls-insides")));
        // At the cluster endpoint the handshake is refused: nothing is delivered.
        attacker.ShardRegion.Tell(new PartitionEnvelope(PartitionId.Of("tls-insides", 0).EntityId, new PurgeQueue("tls-insides")));
        attacker.OnClusterEndpoint("/system/cluster/core/daemon").Tell(new Akka.Actor.Identify(1));
        await Eventually.Holds(() =>
        {
            Assert.Contains(clusterLog.Lines, l => l.Contains("refused peer") && l.Contains("conduit-client"));
            return Task.CompletedTask;
        }, timeoutMs: 30_000);
        Assert.Single(Akka.Cluster.Cluster.Get(node.System).State.Members);
    }

    private static ConduitClientOptions Options(TestNode node, string? certificate, string? ca, string key) => new()
    {
        Servers = [node.Server],
        ApiKey = key,
        TlsCertificatePath = certificate,
        TlsCaPath = ca,
        RequestTimeout = TimeSpan.FromSeconds(5),
    };

    private Task<TestNode> StartNode(StorageOptions storage, string[] roles, string? seed, string certificate, string? keysFile) =>
        StartNode(storage, roles, seed, certificate, _certs.CaA, keysFile);

    private static Task<TestNode> StartNode(StorageOptions storage, string[] roles, string? seed, string certificate, string ca, string? keysFile) =>
        TestNode.StartAsync(new NodeSettings
        {
            Port = 0,
            ClusterPort = 0,
            Storage = storage,
            Seeds = seed is null ? [] : [seed],
            Tls = TestCertificates.Settings(certificate, ca),
            KeysFile = keysFile,
            Server = new ConduitServerOptions { Roles = roles, Partition = TestNode.FastPartitionOptions, PartitionsPerQueue = 4 },
            ExtraHocon = TestNode.ClusterTestHocon,
        });

    private static async Task<string> KeysFile(params KeysFileEntry[] entries)
    {
        var file = Path.Combine(Path.GetTempPath(), $"conduit-keys-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(new { keys = entries }));
        return file;
    }
}
