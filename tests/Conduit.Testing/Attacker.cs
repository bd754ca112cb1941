using Akka.Actor;
using Akka.Cluster.Sharding;
using Conduit.Protocol;
using Conduit.Protocol.Remoting;
using Conduit.Protocol.Serialization;
using Conduit.Server.Hosting;

namespace Conduit.Testing;

/// <summary>
/// Someone on the network who can reach a node's ports: a plain ActorSystem (remoting on 127.0.0.1, a free port, not a
/// cluster member) that has Conduit's wire format and Akka's sharding serializer, and sends whatever it likes to any actor
/// path of a node: on its client endpoint (the gateways, or anything else), and, when it knows the node's cluster port
/// (reachable without TLS), to the cluster's insides such as the partitions' shard region.
/// </summary>
public sealed class Attacker : IAsyncDisposable
{
    private readonly int _port;
    private readonly int? _clusterPort;
    private readonly bool _tls;

    private Attacker(ActorSystem system, int port, int? clusterPort, bool tls)
    {
        System = system;
        _port = port;
        _clusterPort = clusterPort;
        _tls = tls;
    }

    public ActorSystem System { get; }

    /// <summary>
    /// An attacker aimed at the node whose client endpoint listens on 127.0.0.1:<paramref name="port"/> and, when given,
    /// whose cluster endpoint listens on 127.0.0.1:<paramref name="clusterPort"/>; with <paramref name="tls"/> it speaks
    /// mutual TLS with those credentials (an attacker holding a stolen or wrongly issued certificate).
    /// </summary>
    public static Attacker Against(int port, int? clusterPort = null, TlsCredentials? tls = null)
    {
        var config = RemotingEndpoint.RemoteOnlyConfig()
            .WithFallback(ConduitSerialization.Config(strict: true))
            // ShardingEnvelope and ShardRegion.StartEntity go through Akka's own sharding serializer.
            .WithFallback(ClusterSharding.DefaultConfig());
        var endpoint = new RemotingEndpoint { Host = "127.0.0.1", Port = 0, Tls = tls, Peers = PeerPolicy.AnyCertifiedPeer };
        return new Attacker(ActorSystem.Create("attacker", endpoint.ToActorSystemSetup(config)), port, clusterPort, tls is not null);
    }

    /// <summary>The node's client endpoint, <c>akka.tcp://conduit@127.0.0.1:port</c> (<c>akka.ssl.tcp</c> with TLS).</summary>
    public string ClientEndpoint => RemotingEndpoint.Address(_tls, WireNames.ClientSystemName, "127.0.0.1", _port);

    /// <summary>The node's cluster endpoint, <c>akka.tcp://conduit-cluster@127.0.0.1:port</c> (<c>akka.ssl.tcp</c> with TLS).</summary>
    public string ClusterEndpoint => _clusterPort is { } p
        ? RemotingEndpoint.Address(_tls, WireNames.ClusterSystemName, "127.0.0.1", p)
        : throw new InvalidOperationException("this attacker was not given the node's cluster port");

    /// <summary>The node's frontend gateway, <c>/user/frontend</c> on its client endpoint, as any client reaches it.</summary>
    public ActorSelection Frontend => System.ActorSelection($"{ClientEndpoint}{WireNames.FrontendPath}");

    /// <summary>The node's management gateway, <c>/user/management</c> on its client endpoint.</summary>
    public ActorSelection Management => System.ActorSelection($"{ClientEndpoint}{WireNames.ManagementPath}");

    /// <summary>Any path on the client endpoint (<c>/system/...</c>, <c>/user/...</c>).</summary>
    public ActorSelection OnClientEndpoint(string path) => System.ActorSelection($"{ClientEndpoint}{path}");

    /// <summary>Any path on the cluster endpoint.</summary>
    public ActorSelection OnClusterEndpoint(string path) => System.ActorSelection($"{ClusterEndpoint}{path}");

    /// <summary>The partitions' shard region itself, <c>/system/sharding/partitions</c> on the cluster endpoint, skipping every check before it.</summary>
    public ActorSelection ShardRegion => OnClusterEndpoint($"/system/sharding/{ConduitHostingExtensions.PartitionsTypeName}");

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
