using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Cluster.Tools.Client;
using Akka.Hosting;
using Akka.Persistence.Sql.Hosting;
using Conduit.Protocol.Serialization;
using Conduit.Server.Frontend;
using Conduit.Server.Matching;
using Conduit.Server.Persistence;
using LinqToDB;

namespace Conduit.Server.Hosting;

/// <summary>Marker for the partitions' shard region (or proxy) in the <see cref="ActorRegistry"/>.</summary>
public sealed class PartitionRegion;

/// <summary>Marker for the node's <see cref="QueueFrontend"/> in the <see cref="ActorRegistry"/>.</summary>
public sealed class ConduitFrontend;

public static class ConduitHostingExtensions
{
    public const string PartitionsTypeName = "partitions";
    /// <summary>Name of the frontend actor; clients address it as <c>/user/frontend</c>.</summary>
    public const string FrontendName = "frontend";

    /// <summary>
    /// Binds protocol messages and journal events to Conduit's binary serializers; nothing falls back to JSON.
    /// The protocol binding is <see cref="ConduitSerialization"/>'s HOCON, the same one the client library uses.
    /// </summary>
    public static AkkaConfigurationBuilder WithConduitSerialization(this AkkaConfigurationBuilder builder) =>
        builder
            .AddHocon(ConduitSerialization.Config(strict: true), HoconAddMode.Prepend)
            .WithCustomSerializer("conduit-journal", [typeof(IConduitEvent)], system => new JournalSerializer(system))
            .WithStrictSerialization(true);

    /// <summary>Journal and snapshot store in SQLite or PostgreSQL (Akka.Persistence.Sql); tables are created at start.</summary>
    public static AkkaConfigurationBuilder WithConduitStorage(this AkkaConfigurationBuilder builder, StorageOptions storage)
    {
        var provider = storage.Kind == StorageKind.Sqlite ? ProviderName.SQLiteMS : ProviderName.PostgreSQL15;
        return builder.WithSqlPersistence(storage.ConnectionString, provider, autoInitialize: true);
    }

    /// <summary>
    /// The partitions' shard region on <c>taskservice</c> nodes (a proxy elsewhere) and, on <c>frontend</c> nodes,
    /// the <see cref="QueueFrontend"/> registered as <see cref="ConduitFrontend"/>.
    /// </summary>
    public static AkkaConfigurationBuilder WithConduitServer(this AkkaConfigurationBuilder builder, ConduitServerOptions options)
    {
        var extractor = new PartitionMessageExtractor(options.MaxShards);
        if (options.IsTaskService)
        {
            builder.WithShardRegion<PartitionRegion>(PartitionsTypeName,
                entityId => PartitionId.TryParse(entityId, out var id)
                    ? QueuePartition.Props(id, options.Partition)
                    : throw new ArgumentException($"not a partition id: {entityId}"),
                extractor,
                new ShardOptions
                {
                    Role = ConduitServerOptions.TaskServiceRole,
                    StateStoreMode = StateStoreMode.DData,
                    PassivateIdleEntityAfter = TimeSpan.Zero,
                });
        }
        else
        {
            builder.WithShardRegionProxy<PartitionRegion>(PartitionsTypeName, ConduitServerOptions.TaskServiceRole, extractor);
        }
        // Every node runs a receptionist, so a client may use any node as a contact point; a request to a
        // service registered on another node (the frontend, the management actor) is routed there.
        builder.WithClusterClientReceptionist();
        if (options.IsFrontend)
        {
            builder.WithActors((system, registry) =>
            {
                var region = registry.Get<PartitionRegion>();
                var frontend = system.ActorOf(QueueFrontend.Props(region, options.PartitionsPerQueue), FrontendName);
                registry.Register<ConduitFrontend>(frontend);
                // Clients (ClusterClient) reach it as "/user/frontend" through any node's receptionist.
                ClusterClientReceptionist.Get(system).RegisterService(frontend);
            });
        }
        return builder;
    }
}
