using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using Akka.Persistence.Sql.Hosting;
using Conduit.Protocol;
using Conduit.Protocol.Remoting;
using Conduit.Server.Gateway;
using Conduit.Server.Hosting;
using Conduit.Server.Http;
using Conduit.Server.Matching;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conduit.Testing;

/// <summary>A refused request, as an exception, so tests can assert the typed error.</summary>
public sealed class RejectedException(Rejected rejected) : Exception(rejected.ToString())
{
    public ErrorCode Code => rejected.Code;
}

/// <summary>
/// A real Conduit node in the test process: the same hosting code as <c>Conduit.Node</c>, remoting on a free
/// loopback port, its own one-node cluster, real storage. Requests go to its frontend.
/// </summary>
public sealed class TestNode : IAsyncDisposable
{
    private readonly IHost _host;

    private TestNode(IHost host, NodeSettings settings)
    {
        _host = host;
        Settings = settings;
        System = host.Services.GetRequiredService<ActorSystem>();
        Frontend = host.Services.GetRequiredService<ActorRegistry>().TryGet<ConduitFrontend>(out var frontend) ? frontend : ActorRefs.Nobody;
    }

    /// <summary>
    /// Every test node: a plain ActorSystem termination (<see cref="KillAsync"/>) must not leave the cluster
    /// gracefully, so that it looks like a crash to the others. A graceful stop (<see cref="DisposeAsync"/>) runs
    /// coordinated shutdown explicitly.
    /// </summary>
    public const string TestHocon = """
        akka.loglevel = WARNING
        akka.coordinated-shutdown.run-by-actor-system-terminate = off
        """;

    /// <summary>For nodes in a multi-node test: fast failure detection, downing and rebalancing.</summary>
    public const string ClusterTestHocon = """
        akka.cluster.split-brain-resolver.stable-after = 2s
        akka.cluster.failure-detector.acceptable-heartbeat-pause = 2s
        akka.cluster.failure-detector.heartbeat-interval = 500ms
        akka.cluster.sharding.rebalance-interval = 1s
        akka.cluster.sharding.retry-interval = 500ms
        akka.cluster.sharding.entity-restart-backoff = 500ms
        akka.cluster.sharding.coordinator-failure-backoff = 1s
        """;

    public NodeSettings Settings { get; }
    public ActorSystem System { get; }
    /// <summary>The node's frontend, or Nobody on a node without the frontend role.</summary>
    public IActorRef Frontend { get; }
    /// <summary>The node's cluster address (<c>akka.tcp://conduit-cluster@127.0.0.1:port</c>): what seeds and membership commands name.</summary>
    public Address Address => Cluster.Get(System).SelfAddress;
    /// <summary>The cluster endpoint's port (the real one when started with port 0).</summary>
    public int ClusterPort => Address.Port ?? throw new InvalidOperationException("no port");
    /// <summary>The node's client endpoint, which clients, the CLI and attackers talk to.</summary>
    public ClientEndpoint ClientEndpoint => ClientEndpoint.Of(System) ?? throw new InvalidOperationException("no client endpoint");
    /// <summary>The client endpoint's port (the real one when started with port 0).</summary>
    public int Port => ClientEndpoint.Address.Port ?? throw new InvalidOperationException("no port");
    /// <summary><c>127.0.0.1:port</c>: what a client takes as its contact point.</summary>
    public string Server => $"{Settings.Host}:{Port}";

    /// <summary>The node's HTTP listener (health, <c>/metrics</c>, the dashboard); only when <see cref="NodeSettings.Http"/> was set.</summary>
    public Uri HttpAddress => NodeHost.HttpAddress(_host) ?? throw new InvalidOperationException("this node has no HTTP listener (NodeSettings.Http)");

    /// <summary>The node's metrics: its meter (for a <see cref="global::System.Diagnostics.Metrics.MeterListener"/>) and per-queue figures.</summary>
    public Conduit.Server.Metrics.ServerMetrics Metrics => _host.Services.GetRequiredService<Conduit.Server.Metrics.ServerMetrics>();
    public TimeSpan AskTimeout { get; set; } = TimeSpan.FromSeconds(20);


    /// <summary>Test defaults: fast ticks and backoff so tests wait milliseconds, not seconds.</summary>
    public static PartitionOptions FastPartitionOptions => new()
    {
        TickMs = 20,
        RetryInitialMs = 50,
        RetryMaxMs = 200,
        LeaseTimeoutMs = 2_000,
        RecoveryBackoffMs = 200,
    };

    /// <param name="port">Client endpoint port; 0 (the default) picks a free one. Restart a killed node on its old <see cref="Port"/> to test reconnects. The cluster port is always a free one.</param>
    /// <param name="seeds">Join the cluster of these nodes (e.g. another TestNode's <see cref="Address"/>) instead of forming one alone.</param>
    /// <param name="join">false: with no seeds, join nothing and wait for <c>conduit cluster join</c> (the node is not Up when this returns).</param>
    /// <param name="queuePartitions">Per-queue partition counts (<c>--queue-partitions q=N</c>); other queues have <paramref name="partitionsPerQueue"/>.</param>
    /// <param name="shardingState">See <see cref="StartAsync(NodeSettings, StorageOptions?)"/>.</param>
    /// <param name="tls">Mutual TLS on both endpoints (<see cref="TestCertificates.Settings"/>); null: plain TCP.</param>
    public static Task<TestNode> StartAsync(StorageOptions storage, PartitionOptions? partition = null, int partitionsPerQueue = 1, int port = 0,
        IReadOnlyList<string>? seeds = null, bool join = true, IReadOnlyDictionary<string, int>? queuePartitions = null,
        StorageOptions? shardingState = null, TlsSettings? tls = null) =>
        StartAsync(new NodeSettings
        {
            Port = port,
            ClusterPort = 0,
            Seeds = seeds ?? [],
            FormClusterAlone = join,
            Storage = storage,
            Tls = tls,
            Server = new ConduitServerOptions
            {
                Partition = partition ?? FastPartitionOptions, PartitionsPerQueue = partitionsPerQueue,
                QueuePartitions = queuePartitions ?? new Dictionary<string, int>(),
            },
        }, shardingState);

    /// <summary>A node in a multi-node test: roles, seeds (none: it forms the cluster), shared storage.</summary>
    public static Task<TestNode> StartClusterNodeAsync(StorageOptions storage, string[] roles, Address? seed,
        PartitionOptions? partition = null, int partitionsPerQueue = 4) =>
        StartAsync(new NodeSettings
        {
            Port = 0,
            ClusterPort = 0,
            Storage = storage,
            Seeds = seed is null ? [] : [seed.ToString()],
            Server = new ConduitServerOptions
            {
                Roles = roles, Partition = partition ?? FastPartitionOptions, PartitionsPerQueue = partitionsPerQueue,
            },
            ExtraHocon = ClusterTestHocon,
        });

    /// <param name="shardingState">
    /// Where the node's cluster keeps cluster sharding's own state: the remember-entities journals of its coordinator and
    /// shards. Defaults to null: in the node's storage, as on every real node. Two separate clusters on one database (a
    /// split brain staged in one test) each need storage of their own here: those journals' persistence ids are the same
    /// in every cluster (<c>/system/sharding/partitionsCoordinator/singleton/coordinator</c>, <c>/sharding/partitionsShard-N</c>),
    /// so their writes collide. The losing coordinator store stops and its shard allocation is dropped; the coordinator
    /// asks again only after <c>updating-state-timeout</c> (20 s, <see cref="FailoverTimings.UpdatingStateTimeout"/>), so
    /// a request to a new shard went unanswered that long (FencingSpec).
    /// </param>
    public static async Task<TestNode> StartAsync(NodeSettings settings, StorageOptions? shardingState = null)
    {
        settings = settings with { ExtraHocon = TestHocon + "\n" + settings.ExtraHocon };
        var host = NodeHost.Build(settings, builder => builder.Logging.ClearProviders(), akka =>
        {
            if (shardingState is not null) KeepShardingStateIn(akka, shardingState);
        });
        await host.StartAsync();
        var node = new TestNode(host, settings);
        if (settings.FormClusterAlone || settings.Seeds.Count > 0) await node.WaitUntilUpAsync();
        return node;
    }

    /// <summary>Plugin id (<c>akka.persistence.journal.&lt;id&gt;</c>, <c>akka.persistence.snapshot-store.&lt;id&gt;</c>) of sharding's own storage.</summary>
    private const string ShardingStatePlugin = "sharding-state";

    /// <summary>Cluster sharding journals its state in <paramref name="storage"/>, apart from the partitions' journal.</summary>
    private static void KeepShardingStateIn(AkkaConfigurationBuilder akka, StorageOptions storage) =>
        akka.WithSqlPersistence(storage.ConnectionString,
                storage.Kind == StorageKind.Sqlite ? LinqToDB.ProviderName.SQLiteMS : LinqToDB.ProviderName.PostgreSQL15,
                autoInitialize: true, pluginIdentifier: ShardingStatePlugin, isDefaultPlugin: false)
            .AddHocon($"""
                akka.cluster.sharding.journal-plugin-id = "akka.persistence.journal.{ShardingStatePlugin}"
                akka.cluster.sharding.snapshot-plugin-id = "akka.persistence.snapshot-store.{ShardingStatePlugin}"
                """, HoconAddMode.Prepend);

    private async Task WaitUntilUpAsync()
    {
        var up = new TaskCompletionSource();
        Cluster.Get(System).RegisterOnMemberUp(() => up.TrySetResult());
        await up.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>Sends <paramref name="request"/> and returns the reply; a <see cref="Rejected"/> reply throws <see cref="RejectedException"/>.</summary>
    public async Task<T> Ask<T>(IPartitionRequest request, TimeSpan? timeout = null)
    {
        var reply = await Frontend.Ask<object>(request, timeout ?? AskTimeout);
        return reply switch
        {
            T t => t,
            Rejected r => throw new RejectedException(r),
            _ => throw new InvalidOperationException($"expected {typeof(T).Name}, got {reply}"),
        };
    }

    /// <summary>
    /// Sends <paramref name="request"/> to the node's management actor (what the CLI reaches: schedules, cluster
    /// requests) and returns the reply; a <see cref="Rejected"/> reply throws <see cref="RejectedException"/>.
    /// </summary>
    public async Task<T> Manage<T>(IManagementRequest request, TimeSpan? timeout = null)
    {
        var management = _host.Services.GetRequiredService<ActorRegistry>().Get<Conduit.Server.Hosting.ConduitManagement>();
        var reply = await management.Ask<object>(request, timeout ?? AskTimeout);
        return reply switch
        {
            T t => t,
            Rejected r => throw new RejectedException(r),
            _ => throw new InvalidOperationException($"expected {typeof(T).Name}, got {reply}"),
        };
    }

    /// <summary>Sends <paramref name="request"/> and expects a refusal; returns its code.</summary>
    public async Task<ErrorCode> Refusal(IPartitionRequest request)
    {
        var reply = await Frontend.Ask<object>(request, AskTimeout);
        return reply is Rejected r ? r.Code : throw new InvalidOperationException($"expected a refusal, got {reply}");
    }

    public Task<Enqueued> Enqueue(string queue, string payload, int priority = TaskSpec.DefaultPriority, long delayMs = 0,
        string? key = null, int maxAttempts = 0) =>
        Ask<Enqueued>(new Enqueue(queue, new TaskSpec(global::System.Text.Encoding.UTF8.GetBytes(payload), Priority: priority,
            DelayMs: delayMs, IdempotencyKey: key, MaxAttempts: maxAttempts)));

    public async Task<LeasedTask[]> Poll(string queue, int max = 1, long waitMs = 2_000, long leaseMs = 0) =>
        (await Ask<Polled>(new Poll(queue, max, waitMs, leaseMs), TimeSpan.FromMilliseconds(waitMs) + AskTimeout)).Tasks;

    /// <summary>The partition entities this node hosts now (nothing on a node without the task-service role).</summary>
    public async Task<string[]> HostedPartitions()
    {
        if (!Settings.Server.IsTaskService) return [];
        var region = Akka.Cluster.Sharding.ClusterSharding.Get(System).ShardRegion(ConduitHostingExtensions.PartitionsTypeName);
        var state = await region.Ask<Akka.Cluster.Sharding.CurrentShardRegionState>(Akka.Cluster.Sharding.GetShardRegionState.Instance, TimeSpan.FromSeconds(10));
        return state.Shards.SelectMany(s => s.EntityIds).ToArray();
    }

    /// <summary>Stops the node without leaving the cluster or flushing anything: what a crash leaves behind.</summary>
    public async Task KillAsync()
    {
        await System.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
        _host.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (System.WhenTerminated.IsCompleted)
        {
            _host.Dispose();
            return;
        }
        try
        {
            await _host.StopAsync(TimeSpan.FromSeconds(20));
        }
        finally
        {
            _host.Dispose();
        }
    }
}
