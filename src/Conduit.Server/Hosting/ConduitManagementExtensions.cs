using Akka.Hosting;
using Conduit.Server.Management;

namespace Conduit.Server.Hosting;

/// <summary>Marker for the node's <see cref="ManagementActor"/> in the <see cref="ActorRegistry"/>.</summary>
public sealed class ConduitManagement;

public static class ConduitManagementExtensions
{
    /// <summary>
    /// Starts the node's <see cref="ManagementActor"/> at <c>/user/management</c> of the cluster system (other nodes' management
    /// actors ask it; the CLI reaches it through the client endpoint). Call after
    /// <see cref="ConduitHostingExtensions.WithConduitServer"/>: it needs the partitions' shard region (or proxy).
    /// </summary>
    public static AkkaConfigurationBuilder WithConduitManagement(this AkkaConfigurationBuilder builder, ConduitServerOptions server,
        ManagementOptions? options = null) =>
        builder
            .WithActors((system, registry) =>
            {
                var management = system.ActorOf(ManagementActor.Props(registry.Get<PartitionRegion>(), server, options,
                    registry.TryGet<ScheduleRegion>(out var schedules) ? schedules : null), ManagementActor.Name);
                registry.Register<ConduitManagement>(management);
            });
}
