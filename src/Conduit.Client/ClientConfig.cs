using System.Globalization;
using Akka.Configuration;
using Conduit.Protocol.Serialization;

namespace Conduit.Client;

/// <summary>The HOCON of the client's own small ActorSystem: remoting only (not a cluster member), Conduit's serializers.</summary>
internal static class ClientConfig
{
    /// <summary>ActorSystem name of a client; nodes see it in their logs.</summary>
    public const string SystemName = WireNames.ClientLibrarySystemName;

    /// <summary>Largest message on the wire, both ways; the nodes use the same.</summary>
    public static readonly string MaximumFrameSize = WireLimits.MaximumFrameBytesHocon; // 8 MiB

    public static Config Build(ConduitClientOptions options)
    {
        var hocon = $$"""
            akka {
              loglevel = WARNING
              log-dead-letters = off
              log-dead-letters-during-shutdown = off
              actor.provider = remote
              remote.log-remote-lifecycle-events = off
              remote.dot-netty.tcp {
                # As on the nodes: a 256 KiB payload, or a batch of them, must fit in one frame.
                maximum-frame-size = {{MaximumFrameSize}}
                hostname = "{{options.LocalHost}}"
                port = {{options.LocalPort.ToString(CultureInfo.InvariantCulture)}}
              }
              coordinated-shutdown.run-by-clr-shutdown-hook = off
              coordinated-shutdown.exit-clr = off
            }
            """;
        var config = ConfigurationFactory.ParseString(hocon);
        if (!string.IsNullOrWhiteSpace(options.ExtraHocon)) config = ConfigurationFactory.ParseString(options.ExtraHocon).WithFallback(config);
        return config.WithFallback(ConduitSerialization.Config(strict: true));
    }
}
