using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Remote.Hosting;

namespace Conduit.Server.Hosting;

/// <summary>Everything one node needs: where it listens, what it joins, where it stores, what it runs.</summary>
public sealed record NodeSettings
{
    public const string SystemName = "conduit";
    public const int DefaultPort = 4053;
    public const string DefaultHost = "127.0.0.1";

    /// <summary>Address to bind and advertise. Defaults to 127.0.0.1.</summary>
    public string Host { get; init; } = DefaultHost;
    /// <summary>Remoting port; 0 picks a free one. Defaults to 4053.</summary>
    public int Port { get; init; } = DefaultPort;
    /// <summary>Seed nodes (<c>akka.tcp://conduit@host:port</c>). None: the node forms a cluster of its own (see <see cref="FormClusterAlone"/>).</summary>
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
    /// Mutual TLS on every remoting link (<c>--tls-cert</c>, <c>--tls-ca</c>); checked when the options are read. Defaults
    /// to null: plain TCP, which a node on a host other than loopback accepts only with <see cref="Insecure"/>.
    /// </summary>
    public Conduit.Protocol.Remoting.TlsSettings? Tls { get; init; }
    /// <summary>The operator chose plain TCP on a host other than loopback (<c>--insecure</c>). Defaults to false.</summary>
    public bool Insecure { get; init; }
}

public static class ConduitNode
{
    /// <summary>Settings every node gets: no durable DistributedData (LightningDB is not usable here), quiet dead letters.</summary>
    public const string BaseHocon = """
        akka.cluster.distributed-data.durable.keys = []
        akka.log-dead-letters-during-shutdown = off
        akka.cluster.sharding.passivate-idle-entity-after = off
        akka.coordinated-shutdown.exit-clr = off
        akka.cluster.downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
        akka.cluster.split-brain-resolver.active-strategy = keep-majority
        akka.cluster.split-brain-resolver.stable-after = 10s
        akka.cluster.split-brain-resolver.down-all-when-unstable = on
        # Payloads go up to 256 KiB and batches carry many: Akka's default frame (128,000 bytes) would silently drop
        # them on the wire. Clients and the CLI use the same limit (WireLimits.MaximumFrameBytes).
        akka.remote.dot-netty.tcp.maximum-frame-size = 8388608  # 8 MiB
        """;

    /// <summary>Wires remoting, the cluster, storage, serialization and Conduit's actors onto <paramref name="builder"/>.</summary>
    public static AkkaConfigurationBuilder ConfigureConduitNode(this AkkaConfigurationBuilder builder, NodeSettings settings)
    {
        var config = ConfigurationFactory.ParseString(BaseHocon);
        if (!string.IsNullOrWhiteSpace(settings.ExtraHocon)) config = ConfigurationFactory.ParseString(settings.ExtraHocon).WithFallback(config);
        builder
            .AddHocon(config, HoconAddMode.Prepend)
            .WithRemoting(settings.Host, settings.Port)
            .WithClustering(new ClusterOptions
            {
                Roles = settings.Server.Roles.ToArray(),
                SeedNodes = settings.Seeds.Count > 0 ? settings.Seeds.ToArray() : null,
            })
            .WithConduitSerialization()
            .WithConduitStorage(settings.Storage)
            .WithConduitServer(settings.Server)
            .WithConduitManagement(settings.Server);
        if (settings.Seeds.Count == 0 && settings.FormClusterAlone)
        {
            // No seeds: this node is the cluster. Join itself (works with port 0, unlike a seed list).
            builder.WithActors((system, _) => Cluster.Get(system).Join(Cluster.Get(system).SelfAddress));
        }
        return builder;
    }
}
