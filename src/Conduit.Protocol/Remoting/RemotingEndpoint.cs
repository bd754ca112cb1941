using System.Globalization;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Remote.Transport.DotNetty;

namespace Conduit.Protocol.Remoting;

/// <summary>
/// The remoting endpoint of one ActorSystem Conduit starts (a node's cluster system and client endpoint, a client, the
/// CLI, a test's attacker): where it listens, the frame size every Conduit system agrees on
/// (<see cref="WireLimits.MaximumFrameBytes"/>), and whether it speaks TLS and to whom. The one place that writes
/// <c>akka.remote.dot-netty.tcp</c>.
/// </summary>
public sealed record RemotingEndpoint
{
    /// <summary>
    /// DotNetty's buffer leak detector is off in every Conduit process: it is a diagnostic that, at its default level,
    /// records a stack trace for one buffer in 128 (about 2% of a node's CPU in the bench's drain profile). Set once, here,
    /// because every Conduit ActorSystem is built from an endpoint; <c>io.netty.leakDetection.level</c> cannot turn it back on.
    /// </summary>
    static RemotingEndpoint() => DotNetty.Common.ResourceLeakDetector.Level = DotNetty.Common.ResourceLeakDetector.DetectionLevel.Disabled;

    /// <summary>Address to bind, and to announce unless <see cref="PublicHost"/> is set.</summary>
    public required string Host { get; init; }

    /// <summary>
    /// The host this system announces to its peers instead of <see cref="Host"/>: a name for a system nobody dials
    /// (a client: nodes answer over the client's own connection), which must differ from every other client's of the same
    /// node. Defaults to null (<see cref="Host"/>).
    /// </summary>
    public string? PublicHost { get; init; }

    /// <summary>Port to bind; 0 picks a free one. Defaults to 0.</summary>
    public int Port { get; init; }

    /// <summary>Mutual TLS material; null speaks plain TCP. Defaults to null.</summary>
    public TlsCredentials? Tls { get; init; }

    /// <summary>Which certified peers are let in when <see cref="Tls"/> is set. Defaults to <see cref="PeerPolicy.NodesOnly"/>.</summary>
    public PeerPolicy Peers { get; init; } = PeerPolicy.NodesOnly;

    /// <summary>
    /// Whether this system never opens a connection and answers only over the connections its peers opened
    /// (<see cref="InboundOnlyTransport"/>): a node's client endpoint, whose requests name their own reply addresses.
    /// Defaults to false.
    /// </summary>
    public bool InboundOnly { get; init; }

    /// <summary>
    /// Whether this system closes every connection that comes in, before Akka's handshake (<see cref="OutboundOnlyTransport"/>):
    /// a client, which nodes never dial and whose handshake would tell anyone who connects its whole address
    /// (<see cref="ClientSystemName"/>). Defaults to false.
    /// </summary>
    public bool OutboundOnly { get; init; }

    /// <summary>
    /// How many connections the port holds open at once, in all and from one IP address (<see cref="ConnectionLimits"/>);
    /// past them a connection is closed as it is accepted. Defaults to null: no limit (a client, which takes no connections).
    /// </summary>
    public ConnectionLimits? Limits { get; init; }

    /// <summary>
    /// How long a connection may take to complete TLS and Akka's handshake before it is closed, and (for a system that
    /// dials) how long a dial may take: Akka's <c>connection-timeout</c>, which is also its handshake timeout. Defaults
    /// to null: Akka's 15 s.
    /// </summary>
    public TimeSpan? HandshakeTimeout { get; init; }

    /// <summary>The address protocol: <c>akka.tcp</c>, or <c>akka.ssl.tcp</c> with TLS (Akka names TLS addresses so).</summary>
    public string Protocol => ProtocolFor(Tls is not null);

    /// <summary>The address protocol of a system with or without TLS: peers must use it in every address they dial.</summary>
    public static string ProtocolFor(bool tls) => tls ? "akka.ssl.tcp" : "akka.tcp";

    /// <summary><c>akka.tcp://system@host:port</c> (or <c>akka.ssl.tcp://…</c>).</summary>
    public static string Address(bool tls, string system, string host, int port) =>
        string.Create(CultureInfo.InvariantCulture, $"{ProtocolFor(tls)}://{system}@{host}:{port}");

    /// <summary>
    /// The scheduler tick of every remoting-only system: 100 ms, not Akka's 10 ms. Akka's scheduler is a periodic timer at
    /// this tick, and every tick wakes the runtime's timer thread and a thread-pool worker whether anything is due or
    /// not: an idle process with one such system woke about 200 times a second. The timers of these systems are
    /// remoting's (the transport heartbeat, the reopening of a gated address after 1 s), a client's reconnect probe (1 s)
    /// and a gateway's window for refusal log lines (1 s), which fire up to about two ticks (200 ms) late; request deadlines
    /// use .NET timers. A client can set it again with <c>ExtraHocon</c> (<c>akka.scheduler.tick-duration</c>).
    /// </summary>
    public static readonly TimeSpan RemoteOnlySchedulerTick = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// What every remoting-only ActorSystem Conduit starts has in common (a node's client endpoint, <c>ConduitClient</c>,
    /// the CLI, test peers): provider <c>remote</c>, not a cluster member; quiet about dead letters and about connections
    /// coming and going; it never ends the process it runs in (coordinated shutdown neither hooks nor exits the CLR);
    /// and its scheduler ticks every <see cref="RemoteOnlySchedulerTick"/>.
    /// Host, port, frame size and TLS come from the endpoint itself (<see cref="ToActorSystemSetup"/>).
    /// </summary>
    public static Config RemoteOnlyConfig(string logLevel = "WARNING") => ConfigurationFactory.ParseString($$"""
        akka {
          loglevel = {{logLevel}}
          scheduler.tick-duration = {{(long)RemoteOnlySchedulerTick.TotalMilliseconds}}ms
          log-dead-letters = off
          log-dead-letters-during-shutdown = off
          actor.provider = remote
          remote.log-remote-lifecycle-events = off
          coordinated-shutdown.run-by-clr-shutdown-hook = off
          coordinated-shutdown.exit-clr = off
        }
        """);

    /// <summary>
    /// The endpoint's HOCON: <c>akka.remote.dot-netty.tcp</c> hostname, port, maximum frame size and enable-ssl. It
    /// leaves <c>akka.actor.provider</c> to the caller (remote or cluster). With TLS the system also needs
    /// <see cref="SslSetup"/>: the HOCON switches TLS on, the setup carries the certificate and the peer check.
    /// </summary>
    public Config ToConfig() => ConfigurationFactory.ParseString(ToHocon());

    /// <inheritdoc cref="ToConfig"/>
    public string ToHocon() => PublicHost is not null && Uri.CheckHostName(PublicHost) is not (UriHostNameType.Dns or UriHostNameType.IPv4)
        ? throw new ArgumentException($"not a host name: '{PublicHost}'", nameof(PublicHost))
        : HandshakeTimeout is { } t && t <= TimeSpan.Zero
        ? throw new ArgumentOutOfRangeException(nameof(HandshakeTimeout), HandshakeTimeout, "must be positive")
        : InboundOnly && OutboundOnly
        ? throw new ArgumentException($"an endpoint cannot be both {nameof(InboundOnly)} and {nameof(OutboundOnly)}")
        : string.Create(CultureInfo.InvariantCulture, $$"""
        akka.remote.dot-netty.tcp {
          hostname = "{{Host}}"
          port = {{Port}}
          # Payloads go up to 256 KiB and batches carry many: Akka's default frame (128,000 bytes) would drop them.
          maximum-frame-size = {{WireLimits.MaximumFrameBytesHocon}}
          enable-ssl = {{(Tls is null ? "off" : "on")}}
        }
        {{(PublicHost is null ? "" : $"akka.remote.dot-netty.tcp.public-hostname = \"{PublicHost}\"")}}
        {{(HandshakeTimeout is { } handshake ? $"akka.remote.dot-netty.tcp.connection-timeout = {(long)handshake.TotalMilliseconds}ms" : "")}}
        {{(InboundOnly ? "# Answers go back over the connection the peer opened (Akka's reference configuration says so too).\nakka.remote.use-passive-connections = on" : "")}}
        {{TransportHocon()}}
        """);

    /// <summary>
    /// DotNetty's TCP transport wrapped in Conduit's guards (<see cref="GuardedTransport"/>) when the endpoint has any:
    /// a direction refused, connection limits. Without them, Akka's transport as it is.
    /// </summary>
    private string TransportHocon()
    {
        var transport = InboundOnly ? typeof(InboundOnlyTransport)
            : OutboundOnly ? typeof(OutboundOnlyTransport)
            : Limits is not null ? typeof(GuardedTransport)
            : null;
        if (transport is null) return "";
        Limits?.Validate();
        return string.Create(CultureInfo.InvariantCulture, $$"""
            akka.remote.dot-netty.tcp {
              transport-class = "{{transport.FullName}}, {{transport.Assembly.GetName().Name}}"
              {{GuardedTransport.WrappedClassKey}} = "{{GuardedTransport.DotNettyTcpTransport}}"
              {{(Limits is { } limits ? string.Create(CultureInfo.InvariantCulture, $"{GuardedTransport.MaxConnectionsKey} = {limits.MaxConnections}\n{GuardedTransport.MaxConnectionsPerAddressKey} = {limits.MaxConnectionsPerAddress}") : "")}}
            }
            """);
    }

    /// <summary>The TLS setup (certificate, mutual authentication, peer check for <see cref="Peers"/>), or null without TLS.</summary>
    public DotNettySslSetup? SslSetup() => Tls?.SslSetup(Peers);

    /// <summary>
    /// Everything <c>ActorSystem.Create(name, setup)</c> needs: this endpoint's HOCON over <paramref name="config"/>,
    /// and the TLS setup when there is one.
    /// </summary>
    public ActorSystemSetup ToActorSystemSetup(Config config)
    {
        var bootstrap = BootstrapSetup.Create().WithConfig(ToConfig().WithFallback(config));
        return SslSetup() is { } ssl ? bootstrap.And(ssl) : ActorSystemSetup.Create(bootstrap);
    }
}
