using Akka;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Conduit.Protocol.Remoting;
using Conduit.Protocol.Serialization;

namespace Conduit.Server.Gateway;

/// <summary>
/// A node's client endpoint: a remoting-only ActorSystem named <see cref="WireNames.ClientSystemName"/> on the node's
/// client port, beside the cluster's own ActorSystem in the same process. It runs in Akka's untrusted mode: a peer can
/// reach only <see cref="WireNames.FrontendPath"/> and <see cref="WireNames.ManagementPath"/> by selection, and system
/// messages, <c>PoisonPill</c> and <c>Kill</c> are refused on arrival (<see cref="ConduitSerialization.UntrustedPeersConfig"/>). The
/// gateway actors there admit requests (<see cref="RequestGate"/>) and ask the cluster's actors in-process. The cluster's
/// port is for nodes only. Started with the cluster system (<see cref="Start"/>) and stopped in its coordinated
/// shutdown, before the cluster is left, so clients stop being served first.
/// </summary>
public sealed class ClientEndpoint : IExtension
{
    private ClientEndpoint(ActorSystem system, Security.KeyStore keys)
    {
        System = system;
        Keys = keys;
    }

    /// <summary>The client endpoint's own ActorSystem.</summary>
    public ActorSystem System { get; }

    /// <summary>The API keys this endpoint admits requests with (the node's keys file; open when it has none).</summary>
    internal Security.KeyStore Keys { get; }

    /// <summary>Where clients reach this endpoint: <c>akka.tcp://conduit@host:port</c> (the real port when started with 0).</summary>
    public Address Address => ((ExtendedActorSystem)System).Provider.DefaultAddress;

    /// <summary>The endpoint of <paramref name="clusterSystem"/>, or null when it has none.</summary>
    public static ClientEndpoint? Of(ActorSystem clusterSystem) =>
        clusterSystem.HasExtension<ClientEndpoint>() ? clusterSystem.GetExtension<ClientEndpoint>() : null;

    /// <summary>The endpoint's HOCON: remoting only, untrusted mode, the two trusted paths, Conduit's serializers.</summary>
    /// <param name="stdoutLoggerClass">The cluster system's <c>akka.stdout-logger-class</c> (JSON when the node logs JSON), or empty.</param>
    internal static Config BuildConfig(string logLevel, string stdoutLoggerClass = "") =>
        ConfigurationFactory.ParseString($$"""
            akka {
              # A gateway that fails is resumed, never stopped.
              actor.guardian-supervisor-strategy = "{{typeof(GatewayGuardianStrategy).AssemblyQualifiedName}}"
              # A peer may select only the gateways (untrusted mode, from UntrustedPeersConfig); system messages,
              # PoisonPill and Kill are refused on arrival (see docs/security.md, "Two endpoints").
              remote.trusted-selection-paths = ["{{WireNames.FrontendPath}}", "{{WireNames.ManagementPath}}"]
              # Into the node's logger factory, as the cluster system's are; strangers' connections one line at a time,
              # without stack traces (NodeLogger).
              loggers = ["{{typeof(Diagnostics.NodeLogger).FullName}}, {{typeof(Diagnostics.NodeLogger).Assembly.GetName().Name}}"]
              # Before the loggers start and after they stop: JSON when the node logs JSON, else Akka's console lines;
              # both leave out the random part of clients' system names.
              stdout-logger-class = "{{(stdoutLoggerClass.Length == 0 ? RedactingStdoutLogger.ClassName : stdoutLoggerClass)}}"
            }
            """)
            .WithFallback(RemotingEndpoint.RemoteOnlyConfig(logLevel))
            .WithFallback(ConduitSerialization.UntrustedPeersConfig(strict: true));

    /// <summary>
    /// Starts the endpoint for <paramref name="clusterSystem"/> on <paramref name="remoting"/> (host, port, TLS), with a
    /// management gateway in front of <paramref name="management"/> and, on frontend nodes, a frontend gateway in front of
    /// <paramref name="frontend"/>.
    /// </summary>
    internal static ClientEndpoint Start(ActorSystem clusterSystem, RemotingEndpoint remoting, IActorRef management, IActorRef? frontend,
        RequestGate gate, GatewayOptions? limits = null, Metrics.ServerMetrics? metrics = null)
    {
        limits ??= new GatewayOptions();
        limits.Validate();
        var logLevel = clusterSystem.Settings.Config.GetString("akka.loglevel", "WARNING");
        // It never dials: a request names its own reply address, and an answer goes back only over the client's connection.
        var setup = (remoting with { InboundOnly = true }).ToActorSystemSetup(BuildConfig(logLevel, clusterSystem.Settings.Config.GetString("akka.stdout-logger-class", "")));
        // The host's logger factory, which Akka.Hosting gave the cluster system: both systems log through it.
        var loggerFactory = clusterSystem.Settings.Setup.Get<Akka.Hosting.Logging.LoggerFactorySetup>();
        if (loggerFactory.HasValue) setup = setup.And(loggerFactory.Value);
        var system = ActorSystem.Create(WireNames.ClientSystemName, setup);
        var endpoint = new ClientEndpoint(system, gate.Keys);
        metrics?.AttachClientEndpoint(system);
        DroppedClients.Start(system);
        var log = Logging.GetLogger(clusterSystem, "conduit.gateway");
        system.ActorOf(GatewayActor.Props(management, GatewayKind.Management, gate, log, limits, metrics), WireNames.ManagementPath["/user/".Length..]);
        if (frontend is not null)
            system.ActorOf(GatewayActor.Props(frontend, GatewayKind.Frontend, gate, log, limits, metrics), WireNames.FrontendPath["/user/".Length..]);
        clusterSystem.RegisterExtension(new Id(endpoint));
        CoordinatedShutdown.Get(clusterSystem).AddTask(CoordinatedShutdown.PhaseServiceUnbind, "conduit-client-endpoint",
            async () =>
            {
                await system.Terminate();
                return Done.Instance;
            });
        // A cluster system terminated without coordinated shutdown (tests kill nodes that way) takes the endpoint along.
        clusterSystem.RegisterOnTermination(() => system.Terminate());
        // An endpoint that stops while the node runs would leave a member that serves nobody: the node stops too (exit
        // code non-zero under Conduit.Node), so a supervisor (systemd, Kubernetes, compose) restarts it.
        system.WhenTerminated.ContinueWith(_ =>
        {
            var shutdown = CoordinatedShutdown.Get(clusterSystem);
            if (shutdown.ShutdownReason is not null || clusterSystem.WhenTerminated.IsCompleted) return;
            Logging.GetLogger(clusterSystem, "conduit.gateway").Error(
                "The client endpoint {0} stopped while the node runs; stopping the node so that it is restarted", endpoint.Address);
            shutdown.Run(EndpointStopped.Instance);
        }, TaskScheduler.Default);
        return endpoint;
    }

    /// <summary>Why the node stopped: its client endpoint stopped first.</summary>
    public sealed class EndpointStopped : CoordinatedShutdown.Reason
    {
        public static readonly EndpointStopped Instance = new();

        private EndpointStopped() { }

        /// <summary>The exit code <c>Conduit.Node</c> returns: 70 (EX_SOFTWARE).</summary>
        public override int ExitCode => 70;
    }

    private sealed class Id(ClientEndpoint endpoint) : ExtensionIdProvider<ClientEndpoint>
    {
        public override ClientEndpoint CreateExtension(ExtendedActorSystem system) => endpoint;
    }
}
