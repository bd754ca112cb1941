using Akka.Actor;
using Conduit.Protocol.Remoting;

namespace Conduit.Client;

/// <summary>
/// Talks to a Conduit cluster from outside it: a small ActorSystem of its own (remoting only, not a cluster member)
/// attached to the client endpoint of one node (<c>akka.tcp://conduit@host:4053/user/frontend</c>). It picks a node that
/// answers, and when that node goes away it moves to another (or back to the same one when it returns) by itself. A
/// request that times out may or may not have taken effect, and the caller decides whether to retry it; the client resends
/// nothing on its own except a request refused with <see cref="ErrorCode.Overloaded"/> (which changed nothing), after a
/// backoff, and not an enqueue without an idempotency key (<see cref="OverloadBackoffOptions"/>).
/// Thread-safe; create one per process and share it (<c>services.AddConduitClient()</c> does that).
/// </summary>
public sealed partial class ConduitClient : IAsyncDisposable, IDisposable
{
    /// <summary>Path of the queue frontend on a node's client endpoint.</summary>
    public const string FrontendPath = WireNames.FrontendPath;

    /// <summary>Path of the management actor on a node's client endpoint (operator requests).</summary>
    public const string ManagementPath = WireNames.ManagementPath;

    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(10);

    private readonly ActorSystem _system;
    private readonly IActorRef _link;
    private readonly Conduit.Protocol.Remoting.TlsCredentials? _tls;
    private readonly ConnectionState _connection = new();
    private readonly string _serversText;
    private readonly CompletionBatcher _completions;
    private readonly OverloadBackoff _backoff;
    private int _disposed;

    /// <summary>The client's own ActorSystem (tests reach its connections).</summary>
    internal ActorSystem ActorSystem => _system;

    /// <summary>Starts the client's ActorSystem and begins contacting <see cref="ConduitClientOptions.Servers"/>; returns at once.</summary>
    public ConduitClient(ConduitClientOptions? options = null)
    {
        Options = options ?? new ConduitClientOptions();
        Options.Validate(tlsFiles: false);
        _tls = Options.LoadTls();
        var nodes = Options.Servers.Select(s => ContactPoints.ToNodeAddress(s, Options.NodeSystemName, tls: _tls is not null)).ToArray();
        _serversText = string.Join(", ", Options.Servers);
        _system = ActorSystem.Create(ClientSystemName.New(ClientConfig.SystemName), ClientConfig.Setup(Options, _tls));
        _link = _system.ActorOf(NodeLink.Props(nodes, _connection), "node-link");
        _backoff = new OverloadBackoff(Options.OverloadBackoff);
        _completions = new CompletionBatcher(complete => AskRawAsync(FrontendPath, complete));
    }

    /// <summary>Shorthand for a client of the nodes at <paramref name="servers"/> (<c>host:port</c>) with default options.</summary>
    public static ConduitClient Connect(params string[] servers) =>
        new(new ConduitClientOptions { Servers = servers.Length > 0 ? servers : [ConduitClientOptions.DefaultServer] });

    public ConduitClientOptions Options { get; }

    /// <summary>Whether the client has a live connection to at least one node right now.</summary>
    public bool IsConnected => _connection.IsConnected;

    /// <summary>
    /// Sends <paramref name="message"/> to the service at <paramref name="servicePath"/> of the attached node's client
    /// endpoint (<see cref="FrontendPath"/> or <see cref="ManagementPath"/>) and returns its answer as it came,
    /// <see cref="Rejected"/> included. After an <see cref="ErrorCode.Overloaded"/> answer it backs off and, where that is
    /// safe, sends the request again within <paramref name="timeout"/> (<see cref="ConduitClientOptions.OverloadBackoff"/>);
    /// the last Overloaded answer is returned when it gives up.
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
        if (!ConduitClientMetrics.RequestsEnabled) return await AskWithBackoffAsync(servicePath, message, timeout, cancellationToken).ConfigureAwait(false);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            var reply = await AskWithBackoffAsync(servicePath, message, timeout, cancellationToken).ConfigureAwait(false);
            ConduitClientMetrics.Request(message, ConduitClientMetrics.OutcomeOf(reply), started);
            return reply;
        }
        catch (Exception e)
        {
            ConduitClientMetrics.Request(message, e switch
            {
                ConduitUnreachableException => "unreachable",
                ConduitTimeoutException => "timeout",
                OperationCanceledException => "cancelled",
                _ => "error",
            }, started);
            throw;
        }
    }

    private async Task<object> AskWithBackoffAsync(string servicePath, object message, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var wait = timeout ?? Options.RequestTimeout;
        var deadline = DateTime.UtcNow + wait;
        var lane = OverloadBackoff.LaneOf(message);
        var resends = 0;
        while (true)
        {
            // Backing off after an Overloaded answer: wait (never past the deadline), then send.
            var pause = _backoff.WaitBefore(lane);
            if (pause > TimeSpan.Zero)
            {
                var left = deadline - DateTime.UtcNow - MinimumAskTime;
                if (left <= TimeSpan.Zero) return OverloadedFor(message, wait);
                await Task.Delay(pause < left ? pause : left, cancellationToken).ConfigureAwait(false);
            }
            var remaining = deadline - DateTime.UtcNow;
            if (remaining < MinimumAskTime) remaining = MinimumAskTime;
            var reply = await AskOnceAsync(servicePath, message, remaining, wait, cancellationToken).ConfigureAwait(false);
            if (reply is not Rejected { Code: ErrorCode.Overloaded })
            {
                _backoff.Answered(lane);
                return reply;
            }
            var delay = _backoff.Overloaded(lane);
            if (!OverloadBackoff.MayResend(message) || resends >= Options.OverloadBackoff.MaxRetries
                || DateTime.UtcNow + delay + MinimumAskTime > deadline)
                return reply;
            resends++;
        }
    }

    /// <summary>The least time a (re)sent request is given to be answered.</summary>
    private static readonly TimeSpan MinimumAskTime = TimeSpan.FromMilliseconds(100);

    /// <summary>What a request that spent its whole timeout backing off answers: the node said Overloaded.</summary>
    private static Rejected OverloadedFor(object message, TimeSpan wait) =>
        new(ErrorCode.Overloaded, $"{message.GetType().Name} not sent: the cluster was overloaded and the client backed off for its whole {wait.TotalSeconds:0.#} s; nothing was sent");

    private async Task<object> AskOnceAsync(string servicePath, object message, TimeSpan wait, TimeSpan shownWait, CancellationToken cancellationToken)
    {
        try
        {
            return await _link.Ask<object>(new NodeLink.Send(servicePath, WithKey(message), DateTime.UtcNow + wait), wait, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (AskTimeoutException e)
        {
            var what = message.GetType().Name;
            throw _connection.IsConnected
                ? new ConduitTimeoutException($"no answer to {what} from the cluster within {shownWait.TotalSeconds:0.#} s", e)
                : new ConduitUnreachableException(
                    $"cannot reach the cluster at {_serversText}: no answer to {what} within {shownWait.TotalSeconds:0.#} s and no node is connected; is a node running there?", e);
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

    /// <summary>Sends <paramref name="message"/> to <paramref name="servicePath"/> without waiting for anything.</summary>
    private void Tell(string servicePath, object message)
    {
        if (Volatile.Read(ref _disposed) == 0) _link.Tell(new NodeLink.Send(servicePath, WithKey(message), DateTime.UtcNow + Options.RequestTimeout));
    }

    /// <summary>With <see cref="ConduitClientOptions.ApiKey"/> set, a request travels in a <see cref="KeyedRequest"/>, which the node checks.</summary>
    private object WithKey(object message) =>
        Options.ApiKey is { } key && message is IClientRequest request ? new KeyedRequest(key, request) : message;

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
            _tls?.Dispose();
        }
        catch (TimeoutException)
        {
            // remoting did not finish in time; the process can still exit
        }
    }
}
