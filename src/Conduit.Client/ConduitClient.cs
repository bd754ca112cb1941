using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Tools.Client;

namespace Conduit.Client;

/// <summary>
/// Talks to a Conduit cluster from outside it: a small ActorSystem of its own (remoting only, not a cluster member)
/// with an Akka <see cref="ClusterClient"/> to the nodes' receptionists. ClusterClient picks a node, watches it and
/// moves to another (or back to a restarted one) by itself; the client never resends a request on its own, so a
/// request that times out may or may not have taken effect, and the caller decides whether to retry it.
/// Thread-safe; create one per process and share it (<c>services.AddConduitClient()</c> does that).
/// </summary>
public sealed partial class ConduitClient : IAsyncDisposable, IDisposable
{
    /// <summary>Service path of the node's queue frontend (registered with the receptionist).</summary>
    public const string FrontendPath = "/user/frontend";

    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(10);

    private readonly ActorSystem _system;
    private readonly IActorRef _clusterClient;
    private readonly ConnectionState _connection = new();
    private readonly string _serversText;
    private int _disposed;

    /// <summary>Starts the client's ActorSystem and begins contacting <see cref="ConduitClientOptions.Servers"/>; returns at once.</summary>
    public ConduitClient(ConduitClientOptions? options = null)
    {
        Options = options ?? new ConduitClientOptions();
        Options.Validate();
        var receptionists = Options.Servers.Select(s => ContactPoints.ToReceptionistPath(s, Options.ClusterSystemName)).ToArray();
        _serversText = string.Join(", ", Options.Servers);
        _system = ActorSystem.Create(ClientConfig.SystemName, ClientConfig.Build(Options, receptionists));
        _system.ActorOf(ConnectionMonitor.Props(_connection), "connection-monitor");
        var settings = ClusterClientSettings.Create(_system)
            .WithInitialContacts(receptionists.Select(ActorPath.Parse).ToImmutableHashSet());
        _clusterClient = _system.ActorOf(ClusterClient.Props(settings), "cluster-client");
    }

    /// <summary>Shorthand for a client of the nodes at <paramref name="servers"/> (<c>host:port</c>) with default options.</summary>
    public static ConduitClient Connect(params string[] servers) =>
        new(new ConduitClientOptions { Servers = servers.Length > 0 ? servers : [ConduitClientOptions.DefaultServer] });

    public ConduitClientOptions Options { get; }

    /// <summary>Whether the client has a live connection to at least one node right now.</summary>
    public bool IsConnected => _connection.IsConnected;

    /// <summary>
    /// Sends <paramref name="message"/> to the service registered at <paramref name="servicePath"/> on the cluster
    /// (for example <see cref="FrontendPath"/>) and returns its answer as it came, <see cref="Rejected"/> included.
    /// </summary>
    /// <exception cref="ConduitTimeoutException">No answer within <paramref name="timeout"/> (default <see cref="ConduitClientOptions.RequestTimeout"/>).</exception>
    /// <exception cref="ConduitUnreachableException">No answer, and no node is connected.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled; the request may still take effect.</exception>
    public async Task<object> AskRawAsync(string servicePath, object message, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(servicePath);
        ArgumentNullException.ThrowIfNull(message);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        var wait = timeout ?? Options.RequestTimeout;
        try
        {
            return await _clusterClient.Ask<object>(new ClusterClient.Send(servicePath, message, localAffinity: true), wait, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (AskTimeoutException e)
        {
            var what = message.GetType().Name;
            throw _connection.IsConnected
                ? new ConduitTimeoutException($"no answer to {what} from the cluster within {wait.TotalSeconds:0.#} s", e)
                : new ConduitUnreachableException(
                    $"cannot reach the cluster at {_serversText}: no answer to {what} within {wait.TotalSeconds:0.#} s and no node is connected; is a node running there?", e);
        }
        catch (TaskCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException($"{message.GetType().Name} was cancelled by the caller", cancellationToken);
        }
    }

    /// <summary>
    /// Sends <paramref name="message"/> to <paramref name="servicePath"/> and returns the answer as <typeparamref name="TReply"/>;
    /// a refusal throws the <see cref="ConduitException"/> subclass for its code.
    /// </summary>
    /// <exception cref="ConduitException">The cluster refused the request; nothing changed.</exception>
    /// <exception cref="ConduitProtocolException">The answer was neither <typeparamref name="TReply"/> nor a refusal.</exception>
    public async Task<TReply> AskAsync<TReply>(string servicePath, object message, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var reply = await AskRawAsync(servicePath, message, timeout, cancellationToken).ConfigureAwait(false);
        return reply switch
        {
            TReply typed => typed,
            Rejected rejected => throw ConduitException.From(rejected),
            Status.Failure failure => throw new ConduitProtocolException($"{message.GetType().Name} failed on the cluster: {failure.Cause?.Message}"),
            _ => throw new ConduitProtocolException($"expected {typeof(TReply).Name} in answer to {message.GetType().Name}, got {reply.GetType().Name}"),
        };
    }

    /// <summary>Sends a queue request to the frontend; see <see cref="AskAsync{TReply}"/>.</summary>
    public Task<TReply> RequestAsync<TReply>(IPartitionRequest request, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        AskAsync<TReply>(FrontendPath, request, timeout, cancellationToken);

    /// <summary>Stops the client's ActorSystem, blocking (for containers disposed synchronously); prefer <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Stops the client's ActorSystem. Requests in flight fail; their effect on the cluster is unknown.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try
        {
            await _system.Terminate().WaitAsync(ShutdownTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // remoting did not finish in time; the process can still exit
        }
    }
}
