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
/// </summary>
internal sealed class GatewayActor : ReceiveActor
{
    private readonly IActorRef _target;
    private readonly GatewayKind _kind;
    private readonly RequestGate _gate;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private DateTime _lastRefusalLog = DateTime.MinValue;
    private int _unloggedRefusals;

    public GatewayActor(IActorRef target, GatewayKind kind, RequestGate gate)
    {
        _target = target;
        _kind = kind;
        _gate = gate;
        ReceiveAny(Handle);
    }

    public static Props Props(IActorRef target, GatewayKind kind, RequestGate gate) =>
        Akka.Actor.Props.Create(() => new GatewayActor(target, kind, gate));

    private void Handle(object message)
    {
        var client = Sender;
        var answerable = !client.IsNobody() && !client.Equals(Context.System.DeadLetters);
        var peer = client.Path.Address.ToString();
        var (request, who, refusal) = _gate.Admit(message, _kind, peer);
        if (refusal is not null || request is null)
        {
            if (refusal?.Code == ErrorCode.Unauthorized) LogRefusal(refusal, who, message, peer);
            if (answerable) client.Tell(refusal ?? new Rejected(ErrorCode.InvalidArgument, "no request"));
            return;
        }
        if (!answerable)
        {
            // A one-way request (CancelPoll): pass it on; there is nobody to answer.
            _target.Tell(request, ActorRefs.NoSender);
            return;
        }
        var timeout = RequestGate.AnswerTimeout(request);
        _target.Ask<object>(request, timeout).ContinueWith(
            t => client.Tell(t.IsCompletedSuccessfully ? t.Result : NoAnswer(t, timeout)),
            TaskContinuationOptions.ExecuteSynchronously);
    }

    /// <summary>Refused credentials are logged (escaped, never the key), at most once a second with a count of the rest, so a flood cannot fill the log.</summary>
    private void LogRefusal(Rejected refusal, Security.Identity? who, object message, string peer)
    {
        var now = DateTime.UtcNow;
        if (now - _lastRefusalLog < TimeSpan.FromSeconds(1))
        {
            _unloggedRefusals++;
            return;
        }
        var what = message is KeyedRequest k ? k.Request?.GetType().Name : message.GetType().Name;
        _log.Warning("Refused {0} from {1} ({2}): {3}{4}", SafeText.Escape(what, 100), SafeText.Escape(peer, 200),
            who is null ? "not authenticated" : SafeText.Escape(who.Name, 100), SafeText.Escape(refusal.Message, 300),
            _unloggedRefusals > 0 ? $" (and {_unloggedRefusals} more refusals since the last line)" : "");
        _lastRefusalLog = now;
        _unloggedRefusals = 0;
    }

    private static Rejected NoAnswer(Task<object> ask, TimeSpan timeout) => ask.Exception?.InnerException is AskTimeoutException or null
        ? new Rejected(ErrorCode.Unavailable, $"the cluster did not answer within {timeout.TotalSeconds:0} s; the request may or may not have taken effect")
        : new Rejected(ErrorCode.Unavailable, $"the cluster failed the request: {SafeText.Escape(ask.Exception.InnerException.Message, 200)}");
}
