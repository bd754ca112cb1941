using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Conduit.Server.Gateway;
using Conduit.Server.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Conduit.Server.Http;

/// <summary>
/// What <c>/healthz</c> and <c>/readyz</c> ask, built on Akka.Hosting's own checks. Live: the cluster ActorSystem and the
/// client endpoint run (restart the process if not). Ready: this node is an Up member, the partitions' shard coordinator
/// answers and knows at least one region, and (on task-service nodes) the database answers a query.
/// </summary>
internal static class NodeHealthChecks
{
    public const string LiveTag = "live";
    public const string ReadyTag = "ready";
    /// <summary>Longest one check may take before it counts as failed. Defaults to 3 s: under a prober's usual 5 s.</summary>
    public static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(3);

    public static AkkaConfigurationBuilder WithConduitHealthChecks(this AkkaConfigurationBuilder builder, NodeSettings settings)
    {
        builder
            .WithActorSystemLivenessCheck(tags: [LiveTag])
            .WithHealthCheck("conduit-client-endpoint", new ClientEndpointRunning(), HealthStatus.Unhealthy, [LiveTag], CheckTimeout)
            .WithAkkaClusterReadinessCheck(tags: [ReadyTag])
            .WithHealthCheck("conduit-partitions", new PartitionRegionReady(), HealthStatus.Unhealthy, [ReadyTag], CheckTimeout);
        if (settings.Server.IsTaskService)
            builder.WithHealthCheck("conduit-storage", new StorageReachable(settings.Storage), HealthStatus.Unhealthy, [ReadyTag], CheckTimeout);
        return builder;
    }

    /// <summary>The client endpoint (the ActorSystem clients and the CLI talk to) has started and not terminated.</summary>
    private sealed class ClientEndpointRunning : IAkkaHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(AkkaHealthCheckContext context, CancellationToken cancellationToken) =>
            Task.FromResult(ClientEndpoint.Of(context.ActorSystem) switch
            {
                null => HealthCheckResult.Unhealthy("the client endpoint has not started"),
                { System.WhenTerminated.IsCompleted: true } => HealthCheckResult.Unhealthy("the client endpoint has stopped"),
                var endpoint => HealthCheckResult.Healthy($"clients are served on {endpoint.Address}"),
            });
    }

    /// <summary>The partitions' shard region (or proxy) reaches the shard coordinator, which knows a task-service region.</summary>
    private sealed class PartitionRegionReady : IAkkaHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(AkkaHealthCheckContext context, CancellationToken cancellationToken)
        {
            if (!context.ActorRegistry.TryGet<PartitionRegion>(out var region))
                return HealthCheckResult.Unhealthy("the partitions' shard region has not started");
            try
            {
                // Answered by the coordinator (an empty answer while the region does not know it yet).
                var regions = await region.Ask<CurrentRegions>(GetCurrentRegions.Instance, CheckTimeout, cancellationToken);
                return regions.Regions.Count > 0
                    ? HealthCheckResult.Healthy($"{regions.Regions.Count} task-service region(s) registered with the shard coordinator")
                    : HealthCheckResult.Unhealthy("the shard coordinator is not reachable yet, or no task-service node has registered");
            }
            catch (AskTimeoutException)
            {
                return HealthCheckResult.Unhealthy($"the partitions' shard region did not answer within {CheckTimeout.TotalSeconds:0} s");
            }
        }
    }

    /// <summary>The journal's database answers <c>SELECT 1</c> on a connection of its own (the journal's pool is not borrowed).</summary>
    private sealed class StorageReachable(StorageOptions storage) : IAkkaHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(AkkaHealthCheckContext context, CancellationToken cancellationToken)
        {
            try
            {
                await using var connection = Open();
                await connection.OpenAsync(cancellationToken);
                await using var command = connection.CreateCommand();
                command.CommandText = "SELECT 1";
                await command.ExecuteScalarAsync(cancellationToken);
                return HealthCheckResult.Healthy(storage.Kind == StorageKind.Sqlite ? "SQLite answers" : "PostgreSQL answers");
            }
            catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException or InvalidOperationException or IOException)
            {
                // The probes need no credential: say what kind of failure, not the server's message (user and host names).
                return HealthCheckResult.Unhealthy($"the database does not answer ({e.GetType().Name})");
            }
        }

        private System.Data.Common.DbConnection Open() => storage.Kind == StorageKind.Sqlite
            ? new SqliteConnection(storage.ConnectionString)
            : new NpgsqlConnection(new NpgsqlConnectionStringBuilder(storage.ConnectionString)
            {
                Timeout = (int)CheckTimeout.TotalSeconds, CommandTimeout = (int)CheckTimeout.TotalSeconds, Pooling = false,
            }.ConnectionString);
    }
}
