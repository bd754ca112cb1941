using Akka.Actor.Setup;
using Akka.Configuration;
using Conduit.Protocol.Remoting;
using Conduit.Protocol.Serialization;

namespace Conduit.Client;

/// <summary>
/// The HOCON of the client's own small ActorSystem: remoting only (not a cluster member), Conduit's serializers. Host,
/// port, frame size and TLS come from <see cref="RemotingEndpoint"/> (<see cref="Setup"/>).
/// </summary>
internal static class ClientConfig
{
    /// <summary>ActorSystem name of a client; nodes see it in their logs.</summary>
    public const string SystemName = WireNames.ClientLibrarySystemName;

    public static Config Build(ConduitClientOptions options)
    {
        var config = RemotingEndpoint.RemoteOnlyConfig();
        if (!string.IsNullOrWhiteSpace(options.ExtraHocon)) config = ConfigurationFactory.ParseString(options.ExtraHocon).WithFallback(config);
        // Nodes answer requests directly; nobody needs to select, stop, kill, watch or suspend anything here.
        return config.WithFallback(ConduitSerialization.UntrustedPeersConfig(strict: true));
    }

    /// <summary>The whole setup of the client's ActorSystem: <see cref="Build"/> under the endpoint (host, port, frame size, TLS with <paramref name="tls"/>).</summary>
    public static ActorSystemSetup Setup(ConduitClientOptions options, TlsCredentials? tls) =>
        new RemotingEndpoint { Host = options.LocalHost, Port = options.LocalPort, Tls = tls, Peers = PeerPolicy.NodesOnly }
            .ToActorSystemSetup(Build(options));
}
