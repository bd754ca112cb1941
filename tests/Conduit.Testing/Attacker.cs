using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using Conduit.Protocol;
using Conduit.Protocol.Remoting;
using Conduit.Protocol.Serialization;
using Conduit.Server.Hosting;

namespace Conduit.Testing;

/// <summary>
/// Someone on the network who can reach a node's remoting port: a plain ActorSystem (remoting on 127.0.0.1, a free port,
/// not a cluster member) that has Conduit's wire format and Akka's sharding serializer, and sends whatever it likes to
/// any actor path of a node: the frontend, or the partitions' shard region directly.
/// </summary>
public sealed class Attacker : IAsyncDisposable
{
    private const string Hocon = """
        akka {
          loglevel = WARNING
          log-dead-letters = off
          log-dead-letters-during-shutdown = off
          actor.provider = remote
          coordinated-shutdown.run-by-clr-shutdown-hook = off
          coordinated-shutdown.exit-clr = off
        }
        """;

    private readonly int _port;
    private readonly bool _tls;

    private Attacker(ActorSystem system, int port, bool tls)
    {
        System = system;
        _port = port;
        _tls = tls;
    }

    public ActorSystem System { get; }

    /// <summary>
    /// An attacker aimed at the node listening on 127.0.0.1:<paramref name="port"/>; with <paramref name="tls"/> it speaks
    /// mutual TLS with those credentials (an attacker holding a stolen or wrongly issued certificate).
    /// </summary>
    public static Attacker Against(int port, TlsCredentials? tls = null)
    {
        var config = ConfigurationFactory.ParseString(Hocon)
            .WithFallback(ConduitSerialization.Config(strict: true))
            // ShardingEnvelope and ShardRegion.StartEntity go through Akka's own sharding serializer.
            .WithFallback(ClusterSharding.DefaultConfig());
        var endpoint = new RemotingEndpoint { Host = "127.0.0.1", Port = 0, Tls = tls, Peers = PeerPolicy.AnyCertifiedPeer };
        return new Attacker(ActorSystem.Create("attacker", endpoint.ToActorSystemSetup(config)), port, tls is not null);
    }

    private string Node => RemotingEndpoint.Address(_tls, NodeSettings.SystemName, "127.0.0.1", _port);

    /// <summary>The node's frontend, <c>/user/frontend</c>, as any client reaches it.</summary>
    public ActorSelection Frontend => System.ActorSelection($"{Node}/user/{ConduitHostingExtensions.FrontendName}");

    /// <summary>The partitions' shard region itself, <c>/system/sharding/partitions</c>, skipping the frontend's checks.</summary>
    public ActorSelection ShardRegion => System.ActorSelection($"{Node}/system/sharding/{ConduitHostingExtensions.PartitionsTypeName}");

    public Task<object> Ask(ActorSelection target, object message, TimeSpan? timeout = null) =>
        target.Ask<object>(message, timeout ?? TimeSpan.FromSeconds(20));

    /// <summary>Asks and expects a refusal; returns its code.</summary>
    public async Task<ErrorCode> Refusal(ActorSelection target, object message, TimeSpan? timeout = null)
    {
        var reply = await Ask(target, message, timeout);
        return reply is Rejected r ? r.Code : throw new InvalidOperationException($"expected a refusal to {message}, got {reply}");
    }

    /// <summary>Asks and expects <typeparamref name="T"/>.</summary>
    public async Task<T> Ask<T>(ActorSelection target, object message, TimeSpan? timeout = null)
    {
        var reply = await Ask(target, message, timeout);
        return reply is T t ? t : throw new InvalidOperationException($"expected {typeof(T).Name} in answer to {message}, got {reply}");
    }

    public async ValueTask DisposeAsync() => await System.Terminate().WaitAsync(TimeSpan.FromSeconds(20));
}
