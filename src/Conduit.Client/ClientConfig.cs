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
    /// <summary>The kind in a client's ActorSystem name, which adds a random part (<see cref="ClientSystemName"/>).</summary>
    public const string SystemName = WireNames.ClientLibrarySystemName;

    /// <summary>
    /// After a failed association Akka gates the address for <c>retry-gate-closed-for</c> (5 s by default) and drops what
    /// is sent there meanwhile, so a node restarted on its old address stayed unreachable for up to 5 s after it listened
    /// again (ClientReconnectTests saw 4.9-5.0 s against its 3 s target). A client talks to a handful of nodes, and
    /// NodeLink asks again every second anyway: a 1 s gate lets it in within about a second of the node's return.
    /// </summary>
    public const string ReconnectHocon = "akka.remote.retry-gate-closed-for = 1s";

    /// <summary>
    /// Coordinated shutdown never terminates a client's system; only <see cref="ConduitClient.DisposeAsync"/> does.
    /// Akka.Remote 1.5.73 runs coordinated shutdown whenever an outbound TLS handshake fails (its <c>TcpClientHandler</c>),
    /// whoever dropped the connection and why, with no setting to stop it: a node that was restarting, a proxy in front
    /// of one, or a node with a certificate of another CA left the client without a system for good (TlsReconnectTests).
    /// With this the failed dial is only a failed association: the address is gated and dialed again later. The client
    /// registers no shutdown tasks of its own, so nothing else changes.
    /// </summary>
    public const string OutliveHandshakeFailuresHocon = """
        akka.coordinated-shutdown.terminate-actor-system = off
        akka.coordinated-shutdown.run-by-actor-system-terminate = off
        """;

    public static Config Build(ConduitClientOptions options)
    {
        var config = ConfigurationFactory.ParseString(ReconnectHocon + "\n" + OutliveHandshakeFailuresHocon + "\n" + RedactingStdoutLogger.Hocon)
            .WithFallback(RemotingEndpoint.RemoteOnlyConfig());
        if (!string.IsNullOrWhiteSpace(options.ExtraHocon)) config = ConfigurationFactory.ParseString(options.ExtraHocon).WithFallback(config);
        // Nodes answer requests directly; nobody needs to select, stop, kill, watch or suspend anything here.
        return config.WithFallback(ConduitSerialization.UntrustedPeersConfig(strict: true));
    }

    /// <summary>The whole setup of the client's ActorSystem: <see cref="Build"/> under the endpoint (host, port, frame size, TLS with <paramref name="tls"/>).</summary>
    public static ActorSystemSetup Setup(ConduitClientOptions options, TlsCredentials? tls) =>
        new RemotingEndpoint
        {
            Host = options.LocalHost,
            Port = options.LocalPort,
            Tls = tls,
            Peers = PeerPolicy.NodesOnly,
            OutboundOnly = true,
            PublicHost = options.LocalHost == ConduitClientOptions.DefaultLocalHost ? UniqueHostName() : null,
        }.ToActorSystemSetup(Build(options));

    /// <summary>
    /// The host a client on the default <see cref="ConduitClientOptions.LocalHost"/> announces: its machine's name
    /// (lower-case letters, digits and hyphens of it) and six random hex digits, e.g. <c>web-1-3fa2c1</c>. A node
    /// knows its clients by the address they announce, and clients on different machines that all announced
    /// 127.0.0.1 with the port their machine gave them could meet on one port: the node then takes the later one for
    /// the earlier one restarted and refuses the earlier one's system (Akka's quarantine) for days. Nodes never dial a
    /// client, so the name needs to be unique, not resolvable.
    /// </summary>
    internal static string UniqueHostName()
    {
        var machine = new string(Environment.MachineName.ToLowerInvariant()
            .Where(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-').Take(40).ToArray()).Trim('-');
        var random = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3)).ToLowerInvariant();
        return machine.Length == 0 ? $"client-{random}" : $"{machine}-{random}";
    }
}
