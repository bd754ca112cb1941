using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Configuration;
using Akka.Hosting;
using Conduit.Protocol.Remoting;
using Conduit.Server.Remoting;
using Conduit.Server.Gateway;
using Conduit.Server.Security;
using Microsoft.Extensions.Logging;

namespace Conduit.Server.Hosting;

/// <summary>Everything one node needs: where it listens, what it joins, where it stores, what it runs.</summary>
public sealed record NodeSettings
{
    /// <summary>ActorSystem name of the cluster (<see cref="WireNames.ClusterSystemName"/>); seeds name it.</summary>
    public const string SystemName = WireNames.ClusterSystemName;
    public const int DefaultPort = WireNames.DefaultClientPort;
    public const int DefaultClusterPort = WireNames.DefaultClusterPort;
    public const string DefaultHost = "127.0.0.1";

    /// <summary>Address to bind and advertise, for both endpoints. Defaults to 127.0.0.1.</summary>
    public string Host { get; init; } = DefaultHost;
    /// <summary>Port of the client endpoint, which clients and the CLI use; 0 picks a free one. Defaults to 4053.</summary>
    public int Port { get; init; } = DefaultPort;
    /// <summary>Port of the cluster endpoint, which only nodes use; 0 picks a free one. Defaults to 5053.</summary>
    public int ClusterPort { get; init; } = DefaultClusterPort;
    /// <summary>Seed nodes (<c>akka.tcp://conduit-cluster@host:5053</c>, cluster ports). None: the node forms a cluster of its own (see <see cref="FormClusterAlone"/>).</summary>
    public IReadOnlyList<string> Seeds { get; init; } = [];
    /// <summary>
    /// Without <see cref="Seeds"/>, join itself and form a one-node cluster. false leaves the node outside any cluster
    /// until an operator runs <c>conduit cluster join ADDR</c> against it. Defaults to true.
    /// </summary>
    public bool FormClusterAlone { get; init; } = true;
    public required StorageOptions Storage { get; init; }
    public ConduitServerOptions Server { get; init; } = new();
    /// <summary>HOCON applied over the defaults (files from <c>hocon/</c>, tests' tweaks).</summary>
    public string? ExtraHocon { get; init; }
    /// <summary>
    /// The keys file (<c>--keys</c>, <c>CONDUIT__KEYS</c>; see <see cref="Security.KeyStore"/>). Defaults to none: auth off,
    /// every request is made as the anonymous identity with every role in every namespace.
    /// </summary>
    public string? KeysFile { get; init; }
    /// <summary>
    /// Mutual TLS on every remoting link (<c>--tls-cert</c>, <c>--tls-ca</c>); checked when the options are read. Defaults
    /// to null: plain TCP, which a node on a host other than loopback accepts only with <see cref="Insecure"/>.
    /// </summary>
    public Conduit.Protocol.Remoting.TlsSettings? Tls { get; init; }
    /// <summary>The operator chose plain TCP on a host other than loopback (<c>--insecure</c>). Defaults to false.</summary>
    public bool Insecure { get; init; }
    /// <summary>
    /// The HTTP listener (health probes; see <see cref="Http.NodeHost"/>). The shipped node sets it (127.0.0.1:8053 unless
    /// told otherwise); defaults to null here: no listener, as in-process test nodes run.
    /// </summary>
    public Http.NodeHttpOptions? Http { get; init; }
    /// <summary>
    /// How the node logs (<c>--log-format</c>). With JSON, Akka's own lines before its loggers start and after they stop
    /// are JSON too (<see cref="Diagnostics.JsonStdoutLogger"/>). Defaults to text.
    /// </summary>
    public Configuration.LogFormat LogFormat { get; init; } = Configuration.NodeLoggingOptions.DefaultFormat;
    /// <summary>
    /// Metrics: the queue label limit and an optional OTLP push (<c>--otlp-endpoint</c>); the Prometheus endpoint
    /// <c>/metrics</c> is on the HTTP listener. Defaults to <see cref="Metrics.MetricsOptions"/>' defaults. See docs/metrics.md.
    /// </summary>
    public Metrics.MetricsOptions Metrics { get; init; } = new();
    /// <summary>
    /// How many TCP connections each port holds open at once, in all and from one IP address; past them a connection is
    /// closed as it is accepted. Defaults to <see cref="ConnectionOptions"/>' defaults. See docs/security.md.
    /// </summary>
    public ConnectionOptions Connections { get; init; } = new();
}

public static class ConduitNode
{
    /// <summary>
    /// Settings every node gets: no durable DistributedData (LightningDB is not usable here), quiet dead letters, downing
    /// by keep-majority. Failure detection, downing and sharding timings are <see cref="FailoverTimings.ClusterHocon"/>.
    /// </summary>
    public const string BaseHocon = """
        akka.cluster.distributed-data.durable.keys = []
        akka.log-dead-letters-during-shutdown = off
        akka.cluster.sharding.passivate-idle-entity-after = off
        akka.coordinated-shutdown.exit-clr = off
        akka.cluster.downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
        akka.cluster.split-brain-resolver.active-strategy = keep-majority
        akka.cluster.split-brain-resolver.down-all-when-unstable = on
        """;

    /// <summary>Wires remoting, the cluster, storage, serialization and Conduit's actors onto <paramref name="builder"/>.</summary>
    /// <param name="metrics">The node's metrics (<see cref="Http.NodeHost"/> makes them and exports them); null: none are kept.</param>
    public static AkkaConfigurationBuilder ConfigureConduitNode(this AkkaConfigurationBuilder builder, NodeSettings settings,
        Metrics.ServerMetrics? metrics = null)
    {
        var config = ConfigurationFactory.ParseString(FailoverTimings.ClusterHocon).WithFallback(ConfigurationFactory.ParseString(BaseHocon));
        if (settings.LogFormat == Configuration.LogFormat.Json)
            config = ConfigurationFactory.ParseString(Diagnostics.JsonStdoutLogger.Hocon).WithFallback(config);
        if (!string.IsNullOrWhiteSpace(settings.ExtraHocon)) config = ConfigurationFactory.ParseString(settings.ExtraHocon).WithFallback(config);
        // Loaded once and shared by both endpoints for the life of the process (checked already when the options were read).
        var tls = settings.Tls?.Load(CertificateRole.Node);
        builder
            .AddHocon(config, HoconAddMode.Prepend)
            // Akka's log into Microsoft.Extensions.Logging, with connection and storage floods cut to one line each (NodeLogger).
            .ConfigureLoggers(loggers =>
            {
                loggers.ClearLoggers();
                loggers.AddLogger<Diagnostics.NodeLogger>();
            })
            // The cluster endpoint (frame size, TLS): with TLS only peers holding a node certificate of the CA get in.
            .WithConduitRemoting(new RemotingEndpoint
            {
                Host = settings.Host, Port = settings.ClusterPort, Tls = tls, Peers = PeerPolicy.NodesOnly, Limits = settings.Connections.Cluster,
            })
            .WithClustering(new ClusterOptions
            {
                Roles = settings.Server.Roles.ToArray(),
                SeedNodes = settings.Seeds.Count > 0 ? settings.Seeds.ToArray() : null,
            })
            .WithConduitSerialization()
            .WithConduitStorage(settings.Storage)
            .WithConduitServer(settings.Server, metrics, settings.Storage)
            .WithConduitManagement(settings.Server)
            .WithConduitClientEndpoint(settings, tls, metrics);
        if (settings.Seeds.Count == 0 && settings.FormClusterAlone)
        {
            // No seeds: this node is the cluster. Join itself (works with port 0, unlike a seed list).
            builder.WithActors((system, _) => Cluster.Get(system).Join(Cluster.Get(system).SelfAddress));
        }
        return builder;
    }

    /// <summary>
    /// The node's client endpoint (<see cref="ClientEndpoint"/>) on <see cref="NodeSettings.Port"/>: the only port
    /// clients and the CLI talk to. Call after <see cref="ConduitManagementExtensions.WithConduitManagement"/>.
    /// </summary>
    /// <param name="tls">The node's certificate (null: plain TCP); the endpoint admits peers with any certificate of the CA.</param>
    public static AkkaConfigurationBuilder WithConduitClientEndpoint(this AkkaConfigurationBuilder builder, NodeSettings settings,
        TlsCredentials? tls = null, Metrics.ServerMetrics? metrics = null) =>
        builder.WithActors((system, registry, resolver) =>
        {
            var frontend = registry.TryGet<ConduitFrontend>(out var f) ? f : null;
            var keys = settings.KeysFile is { } file
                ? KeyStore.Load(file, resolver.GetService<ILoggerFactory>()?.CreateLogger("Conduit.Keys"))
                : KeyStore.Open();
            system.RegisterOnTermination(keys.Dispose);
            var endpoint = new RemotingEndpoint
            {
                Host = settings.Host, Port = settings.Port, Tls = tls, Peers = PeerPolicy.AnyCertifiedPeer, Limits = settings.Connections.Client,
                HandshakeTimeout = settings.Connections.ClientHandshakeTimeout,
            };
            ClientEndpoint.Start(system, endpoint, registry.Get<ConduitManagement>(), frontend, new RequestGate(keys), settings.Server.Gateway, metrics);
        });
}
