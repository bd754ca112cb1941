using Akka.Actor;
using Akka.Configuration;
using Conduit.Protocol.Remoting;
using Conduit.Protocol.Serialization;

namespace Conduit.Cli;

/// <summary>
/// The CLI's line to one node for the cluster commands: a small remoting-only actor system (not a cluster member)
/// that asks the management actor of exactly the node named by <c>--server</c>
/// (<c>akka.tcp://conduit@host:port/user/management</c>, the gateway on its client endpoint), as pbm does, so that a
/// node that has not joined a cluster (and so has no frontend worth attaching to) can still be told to join one.
/// </summary>
public sealed class ManagementConnection : IAsyncDisposable
{
    /// <summary>
    /// Largest message either way: 8 MiB, as on the nodes (<c>ConduitNode.BaseHocon</c>) and in ConduitClient (Akka's
    /// default, 128 kB, is below one 256 KiB payload); a larger message is dropped by remoting and shows as no answer.
    /// </summary>
    public const int MaximumFrameSize = WireLimits.MaximumFrameBytes;

    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(3);

    private readonly ActorSystem _system;
    private readonly ActorSelection _management;
    private readonly CliSettings _settings;

    private readonly TlsCredentials? _tls;

    private ManagementConnection(ActorSystem system, CliSettings settings, TlsCredentials? tls)
    {
        _system = system;
        _settings = settings;
        _tls = tls;
        _management = system.ActorSelection($"{settings.Server.AkkaAddressWith(tls is not null)}{WireNames.ManagementPath}");
    }

    public static async Task<ManagementConnection> OpenAsync(CliSettings settings, CancellationToken ct = default)
    {
        var local = await ServerProbe.ProbeAsync(settings, ct);
        var tls = settings.Tls?.Load();
        var endpoint = new RemotingEndpoint { Host = local.ToString(), Port = 0, Tls = tls, Peers = PeerPolicy.NodesOnly, OutboundOnly = true };
        var system = ActorSystem.Create(ClientSystemName.New(WireNames.CliSystemName), endpoint.ToActorSystemSetup(Config()));
        return new ManagementConnection(system, settings, tls);
    }

    /// <summary>Sends <paramref name="request"/> and returns the reply; a <see cref="Rejected"/> reply throws <see cref="RefusedException"/>.</summary>
    public async Task<T> AskAsync<T>(IConduitMessage request, TimeSpan? extraWait = null, CancellationToken ct = default)
    {
        var timeout = _settings.Timeout + (extraWait ?? TimeSpan.Zero);
        object reply;
        try
        {
            // With --api-key the request travels in a KeyedRequest, which the node checks.
            object message = _settings.ApiKey is { } key && request is IClientRequest r ? new KeyedRequest(key, r) : request;
            reply = await _management.Ask<object>(message, timeout, ct);
        }
        catch (AskTimeoutException)
        {
            throw new UnreachableException(
                $"no answer from {_settings.Server} within {Durations.Format(timeout)}: is it a Conduit node's client port, and is the " +
                $"host the one it advertises (its log prints `listening on {(_tls is null ? "akka.tcp" : "akka.ssl.tcp")}://conduit@HOST:PORT for clients`)? " +
                (_tls is null ? "If the node runs TLS, give --tls-cert and --tls-ca. " : "Does the node trust your certificate's CA (its log says `TLS: refused peer`)? ") +
                "If it is busy, raise --timeout");
        }
        return reply switch
        {
            T t => t,
            Rejected r => throw new RefusedException(r),
            _ => throw new InvalidOperationException($"unexpected answer {reply.GetType().Name} to {request.GetType().Name}"),
        };
    }

    private static Config Config() => ConfigurationFactory.ParseString("akka.stdout-loglevel = OFF")
        .WithFallback(RemotingEndpoint.RemoteOnlyConfig(logLevel: "OFF"))
        .WithFallback(ConduitSerialization.UntrustedPeersConfig(strict: true));

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _system.Terminate().WaitAsync(ShutdownTimeout);
        }
        catch (TimeoutException)
        {
            // the answer is printed already; do not hold the shell up for remoting's goodbye
        }
        _system.Dispose();
        _tls?.Dispose();
    }
}
