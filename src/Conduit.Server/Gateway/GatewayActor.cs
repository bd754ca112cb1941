using Akka.Actor;
using Akka.Event;

namespace Conduit.Server.Gateway;

/// <summary>Which service of the cluster a gateway stands in front of.</summary>
internal enum GatewayKind
{
    /// <summary>Queue requests (<see cref="IPartitionRequest"/>), at <c>/user/frontend</c> on frontend nodes.</summary>
    Frontend,
    /// <summary>Operator requests (<see cref="IManagementRequest"/>), at <c>/user/management</c> on every node.</summary>
    Management,
}

/// <summary>
/// One of the two actors a client can reach on a node's client endpoint (an ActorSystem of its own, in Akka's untrusted
/// mode). Each message is admitted by the <see cref="RequestGate"/> (credential, role, namespace) and then asked of the
/// cluster's own frontend or management actor in this process; the answer (or a refusal) goes back to the asker. The
/// cluster's actors never see a client's actor reference, so nothing in the cluster replies to, watches or connects to a
/// client, and nothing a client sends reaches the cluster except an admitted request.
/// <para>
/// Backpressure at the edge: each kind of request has its own bound on how many may be in the cluster at once, and
/// enqueues are refused while they take longer than a target there (<see cref="GatewayOptions"/>); a refused request is
/// answered <see cref="ErrorCode.Overloaded"/> at once and never reaches the cluster. A poll whose answer comes after the gateway gave up on it (and answered the client
/// <see cref="ErrorCode.Unavailable"/>) has its tasks released back (<see cref="ReleaseTasks"/>), so they are not leased to
/// nobody until their lease runs out.
/// </para>
/// </summary>
internal sealed class GatewayActor : ReceiveActor, IWithTimers
{
    private readonly IActorRef _target;
    private readonly GatewayKind _kind;
    private readonly RequestGate _gate;
    private readonly ILoggingAdapter _log;
    private readonly InFlightLimit _inFlight;
    private readonly Metrics.ServerMetrics? _metrics;
    private int _unloggedRefusals;
    private string _lastUnlogged = "";

    /// <param name="log">The cluster system's logger, so the gateway's lines go where the node's do.</param>
    /// <param name="metrics">Where Overloaded and Unavailable answers are counted (null: nowhere).</param>
    public GatewayActor(IActorRef target, GatewayKind kind, RequestGate gate, ILoggingAdapter log, GatewayOptions? options = null,
        Metrics.ServerMetrics? metrics = null)
    {
        _inFlight = new InFlightLimit(options ?? new GatewayOptions());
        _metrics = metrics;
        _target = target;
        _kind = kind;
        _gate = gate;
        _log = log;
        Receive<RefusalWindow>(_ => EndRefusalWindow());
        ReceiveAny(Handle);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef target, GatewayKind kind, RequestGate gate, ILoggingAdapter log, GatewayOptions? options = null,
        Metrics.ServerMetrics? metrics = null) =>
        Akka.Actor.Props.Create(() => new GatewayActor(target, kind, gate, log, options, metrics));

    /// <summary>How long a poll's answer is still waited for after the gateway gave up on it, to release its tasks: 10 s.</summary>
    public static readonly TimeSpan LateAnswerGrace = TimeSpan.FromSeconds(10);

    private void Handle(object message)
    {
        var client = Sender;
        var answerable = !client.IsNobody() && !client.Equals(Context.System.DeadLetters);
        var peer = client.Path.Address;
        if (answerable && !RequestGate.IsClientAddress(peer))
        {
            LogRefusal(new Rejected(ErrorCode.InvalidArgument, "its reply address names a Conduit node; dropped unanswered"), null, message, peer);
            return;
        }
        var (request, who, refusal) = _gate.Admit(message, _kind, peer);
        if (refusal is not null || request is null)
        {
            if (refusal?.Code == ErrorCode.Unauthorized) LogRefusal(refusal, who, message, peer);
            if (answerable) client.Tell(refusal ?? new Rejected(ErrorCode.InvalidArgument, "no request"));
            return;
        }
        // Queue administration sent straight to the frontend is audited as through the management actor.
        if (_kind == GatewayKind.Frontend && request is IPartitionRequest queueRequest && Management.OperatorAudit.IsAudited(queueRequest))
            Management.OperatorAudit.Log(_log, RequestGate.RequesterOf(who, peer), queueRequest);
        if (!answerable)
        {
            // A one-way request (CancelPoll): pass it on; there is nobody to answer.
            _target.Tell(request, ActorRefs.NoSender);
            return;
        }
        var kind = InFlightLimit.KindOf(request);
        var takenAt = _inFlight.TryTake(kind);
        if (takenAt < 0)
        {
            _metrics?.CountRefusal(ErrorCode.Overloaded, atGateway: true);
            client.Tell(_inFlight.Refusal(kind));
            return;
        }
        var timeout = RequestGate.AnswerTimeout(request);
        var metrics = _metrics;
        if (request is Poll)
        {
            var polls = _inFlight;
            PollAsk.Run(_target, request, timeout, LateAnswerGrace, answer =>
            {
                if (answer is Rejected refused) metrics?.CountRefusal(refused.Code, atGateway: false);
                client.Tell(answer);
            }, () => polls.Give(kind, takenAt));
            return;
        }
        var inFlight = _inFlight;
        _target.Ask<object>(request, timeout).ContinueWith(t =>
            {
                inFlight.Give(kind, takenAt);
                var answer = t.IsCompletedSuccessfully ? t.Result : NoAnswer(t, timeout);
                if (answer is Rejected refused) metrics?.CountRefusal(refused.Code, atGateway: false);
                client.Tell(answer);
            },
            TaskContinuationOptions.ExecuteSynchronously);
    }

    /// <summary>
    /// Refused credentials are logged (escaped, never the key): the first of each second at once, the rest of that second
    /// as one line with their count and the last of them, so a flood of bad keys cannot fill the log.
    /// </summary>
    private void LogRefusal(Rejected refusal, Security.Identity? who, object message, Address peer)
    {
        var what = message is KeyedRequest k ? k.Request?.GetType().Name : message.GetType().Name;
        var line = $"{SafeText.Escape(what, 100)} from {SafeText.Escape(RequestGate.ShownAddress(peer), 200)} ({Claimant(who, message)}): " +
                   SafeText.Escape(refusal.Message, 300);
        if (Timers.IsTimerActive(RefusalWindow.Instance))
        {
            _unloggedRefusals++;
            _lastUnlogged = line;
            return;
        }
        _log.Warning("Refused {0}", line);
        Timers.StartSingleTimer(RefusalWindow.Instance, RefusalWindow.Instance, TimeSpan.FromSeconds(1));
    }

    /// <summary>Who a refused request came from: the identity, or the id its key names (never the key), or "no key".</summary>
    private static string Claimant(Security.Identity? who, object message) => who is not null
        ? SafeText.Escape(who.Name, 100)
        : message is KeyedRequest keyed ? $"key {SafeText.Escape(Protocol.Security.ApiKey.Describe(keyed.ApiKey), 100)}, not authenticated" : "no key";

    private void EndRefusalWindow()
    {
        if (_unloggedRefusals == 0) return;
        _log.Warning("Refused {0} more requests in the last second; the last: {1}", _unloggedRefusals, _lastUnlogged);
        _unloggedRefusals = 0;
        Timers.StartSingleTimer(RefusalWindow.Instance, RefusalWindow.Instance, TimeSpan.FromSeconds(1));
    }

    private sealed class RefusalWindow
    {
        public static readonly RefusalWindow Instance = new();
    }

    internal static Rejected NoAnswer(Task<object>? ask, TimeSpan timeout) => ask?.Exception?.InnerException is AskTimeoutException or null
        ? new Rejected(ErrorCode.Unavailable, $"the cluster did not answer within {timeout.TotalSeconds:0} s; the request may or may not have taken effect")
        : new Rejected(ErrorCode.Unavailable, $"the cluster failed the request: {SafeText.Escape(ask!.Exception!.InnerException!.Message, 200)}");
}
