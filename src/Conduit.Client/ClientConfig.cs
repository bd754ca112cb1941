using System.Globalization;
using Akka.Cluster.Tools.Client;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Configuration;
using Conduit.Protocol.Serialization;

namespace Conduit.Client;

/// <summary>The HOCON of the client's own small ActorSystem: remoting only (not a cluster member), Conduit's serializer, ClusterClient.</summary>
internal static class ClientConfig
{
    /// <summary>ActorSystem name of a client; nodes see it in their logs.</summary>
    public const string SystemName = "conduit-client";

    /// <summary>Largest message on the wire, both ways; the nodes use the same (ConduitNode.BaseHocon).</summary>
    public static readonly string MaximumFrameSize = WireLimits.MaximumFrameBytesHocon; // 8 MiB

    public static Config Build(ConduitClientOptions options, IEnumerable<string> receptionists)
    {
        var contacts = string.Join(", ", receptionists.Select(p => $"\"{p}\""));
        var hocon = $$"""
            akka {
              loglevel = WARNING
              log-dead-letters = off
              log-dead-letters-during-shutdown = off
              actor.provider = remote
              remote.dot-netty.tcp {
                # As on the nodes: a 256 KiB payload, or a batch of them, must fit in one frame.
                maximum-frame-size = {{MaximumFrameSize}}
                hostname = "{{options.LocalHost}}"
                port = {{options.LocalPort.ToString(CultureInfo.InvariantCulture)}}
              }
              cluster.client {
                initial-contacts = [{{contacts}}]
                # A node that went away is retried this often until one answers again.
                establishing-get-contacts-interval = 1s
                # Never give up: a client outlives node restarts.
                reconnect-timeout = off
              }
              coordinated-shutdown.run-by-clr-shutdown-hook = off
              coordinated-shutdown.exit-clr = off
            }
            """;
        var config = ConfigurationFactory.ParseString(hocon);
        if (!string.IsNullOrWhiteSpace(options.ExtraHocon)) config = ConfigurationFactory.ParseString(options.ExtraHocon).WithFallback(config);
        return config
            .WithFallback(ConduitSerialization.Config(strict: true))
            .WithFallback(ClusterClientReceptionist.DefaultConfig())
            // ClusterClient wraps requests in DistributedPubSub's Send; its serializer binding lives there.
            .WithFallback(DistributedPubSub.DefaultConfig());
    }
}
