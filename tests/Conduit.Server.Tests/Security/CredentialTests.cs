using System.Text.Json;
using Akka.Actor;
using Conduit.Protocol;
using Conduit.Protocol.Security;
using Conduit.Server.Hosting;
using Conduit.Server.Security;
using Conduit.Testing;
using Xunit;

namespace Conduit.Server.Tests.Security;

/// <summary>A real node with a keys file, and its client port, over real remoting.</summary>
public sealed class KeyedNodeFixture : IAsyncLifetime
{
    public static readonly string[] Namespaces = [PartitionId.DefaultNamespace];

    /// <summary>Keys by name: one per role in <c>default</c>, an operator of every namespace, and a key for another namespace only.</summary>
    public Dictionary<string, string> Keys { get; } = new()
    {
        ["producer"] = ApiKey.Generate("producer"),
        ["worker"] = ApiKey.Generate("worker"),
        ["operator"] = ApiKey.Generate("operator"),
        ["admin"] = ApiKey.Generate("admin"),
        ["billing"] = ApiKey.Generate("billing"),
    };

    public TestNode Node { get; private set; } = null!;
    public LogCollector Log { get; private set; } = null!;
    private string _file = "";

    public async Task InitializeAsync()
    {
        _file = Path.Combine(Path.GetTempPath(), $"conduit-keys-{Guid.NewGuid():N}.json");
        KeysFileEntry[] entries =
        [
            KeysFileEntry.For(Keys["producer"], ["producer"], Namespaces),
            KeysFileEntry.For(Keys["worker"], ["worker"], Namespaces),
            KeysFileEntry.For(Keys["operator"], ["operator"], Namespaces),
            KeysFileEntry.For(Keys["admin"], ["operator"], [KeysFileEntry.AllNamespaces]),
            KeysFileEntry.For(Keys["billing"], ["producer", "worker", "operator"], ["billing"]),
        ];
        await File.WriteAllTextAsync(_file, JsonSerializer.Serialize(new { keys = entries }));
        Node = await TestNode.StartAsync(new NodeSettings
        {
            Port = 0, ClusterPort = 0, Storage = TestStores.NewSqlite(), KeysFile = _file,
            Server = new ConduitServerOptions { Partition = TestNode.FastPartitionOptions },
        });
        Log = LogCollector.Attach(Node.System);
    }

    public async Task DisposeAsync()
    {
        await Node.DisposeAsync();
        File.Delete(_file);
    }
}

/// <summary>
/// Each role can do exactly its operations in its namespaces, over the client port of a real node with a keys file; a
/// missing, malformed, unknown or wrong key gets <see cref="ErrorCode.Unauthorized"/>; operator actions are logged with
/// the key's identity and the peer.
/// </summary>
public sealed class CredentialTests(KeyedNodeFixture fixture) : IClassFixture<KeyedNodeFixture>
{
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(30);

    public static TheoryData<string, string, string> Cases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var (key, ns) in new[] { ("producer", "default"), ("worker", "default"), ("operator", "default"), ("admin", "default"),
                     ("admin", "billing"), ("billing", "billing"), ("billing", "default"), ("worker", "billing") })
        foreach (var type in ClientRequests.UnionTypes)
            data.Add(key, ns, type.Name);
        return data;
    }

    private static Role RolesOf(string key) => key switch
    {
        "producer" => Role.Producer,
        "worker" => Role.Worker,
        "operator" or "admin" => Role.Operator,
        _ => Role.Producer | Role.Worker | Role.Operator,
    };

    [Theory(DisplayName = "over the client port, a key is refused Unauthorized exactly where its roles and namespaces do not cover the request")]
    [MemberData(nameof(Cases))]
    public async Task RoleTable(string key, string ns, string requestType)
    {
        var type = ClientRequests.UnionTypes.Single(t => t.Name == requestType);
        // Short waits, so allowed polls answer quickly; queue "q" (or the task ids) in namespace ns.
        var request = ClientRequests.Samples(ns)[type] switch
        {
            Poll poll => poll with { WaitMs = 100 },
            ChangeMembership change => change with { Address = "akka.tcp://conduit-cluster@127.0.0.1:1" },
            var other => other,
        };
        var (allowed, clusterWide) = PermissionsTests.Expected[type];
        var inScope = key switch
        {
            "admin" => true,                                  // operator in every namespace
            "billing" => ns == "billing" && !clusterWide,     // every role, in namespace billing only
            _ => ns == "default" && !clusterWide,             // namespace default only: not enough for cluster-wide requests
        };
        var expectAllowed = (allowed & RolesOf(key)) != 0 && inScope;

        await using var attacker = Attacker.Against(fixture.Node.Port);
        var gateway = request is IManagementRequest ? attacker.Management : attacker.Frontend;
        object reply;
        try
        {
            // CancelPoll is one-way: a refusal comes back at once, an allowed one is never answered.
            reply = await attacker.Ask(gateway, new KeyedRequest(fixture.Keys[key], request), request is CancelPoll ? TimeSpan.FromSeconds(2) : Answer);
        }
        catch (AskTimeoutException) when (request is CancelPoll)
        {
            reply = "no answer";
        }

        var refused = reply is Rejected { Code: ErrorCode.Unauthorized };
        Assert.True(refused != expectAllowed, $"{key} in {ns}, {requestType}: expected {(expectAllowed ? "allowed" : "Unauthorized")}, got {reply}");
    }
}

/// <summary>
/// Refused keys over the client port of a node of their own (so no other test's refusal shares the log's one-line-a-second
/// window), and the audit line of an operator action.
/// </summary>
public sealed class CredentialRefusalTests(KeyedNodeFixture fixture) : IClassFixture<KeyedNodeFixture>
{
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(30);

    [Theory(DisplayName = "no key, a malformed key, an unknown id or a wrong secret is refused Unauthorized and changes nothing")]
    [InlineData("none")]
    [InlineData("malformed")]
    [InlineData("unknown")]
    [InlineData("wrong-secret")]
    public async Task BadKeys(string kind)
    {
        await using var attacker = Attacker.Against(fixture.Node.Port);
        var enqueue = new Enqueue("bad-keys", new TaskSpec([1]));
        object message = kind switch
        {
            "none" => enqueue,
            "malformed" => new KeyedRequest("not a key\n", enqueue),
            "unknown" => new KeyedRequest(ApiKey.Generate("nobody"), enqueue),
            _ => new KeyedRequest(ApiKey.Generate("producer"), enqueue),
        };
        var reply = await attacker.Ask(attacker.Frontend, message, Answer);
        Assert.Equal(ErrorCode.Unauthorized, Assert.IsType<Rejected>(reply).Code);
        Assert.DoesNotContain("not a key", ((Rejected)reply).Message);

        var stats = await attacker.Ask<QueueStats>(attacker.Frontend, new KeyedRequest(fixture.Keys["admin"], new GetQueueStats("bad-keys")), Answer);
        Assert.Equal(0, stats.Ready);
        // Logged at once, or (when another refusal came in the same second) in the next second's summary.
        await Eventually.Holds(() =>
        {
            Assert.Contains(fixture.Log.Lines, l => l.Contains("Refused") && l.Contains("Enqueue from akka.tcp://attacker@"));
            return Task.CompletedTask;
        });
        Assert.DoesNotContain(fixture.Log.Lines, l => fixture.Keys.Values.Any(k => l.Contains(k.Split('.')[1])));
    }

    [Fact(DisplayName = "the audit line of an operator action names the key's identity and the peer's address")]
    public async Task AuditNamesIdentityAndPeer()
    {
        await using var attacker = Attacker.Against(fixture.Node.Port);
        var purge = new OperatorRequest(new PurgeQueue("audited"), new Requester("someone-else\nforged", "x"));
        Assert.IsType<QueuePurged>(await attacker.Ask(attacker.Management, new KeyedRequest(fixture.Keys["operator"], purge), Answer));
        var peer = ((ExtendedActorSystem)attacker.System).Provider.DefaultAddress;
        var line = Assert.Single(fixture.Log.Lines, l => l.Contains("purged queue default/audited"));
        Assert.Contains($"operator@{peer}", line);
        Assert.DoesNotContain("forged", line);
    }
}
