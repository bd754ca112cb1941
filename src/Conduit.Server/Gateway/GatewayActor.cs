using Akka.Actor;

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
        var refusal = _gate.Admit(message, _kind, client.Path.Address.ToString(), out var request);
        if (refusal is not null)
        {
            if (answerable) client.Tell(refusal);
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

    private static Rejected NoAnswer(Task<object> ask, TimeSpan timeout) => ask.Exception?.InnerException is AskTimeoutException or null
        ? new Rejected(ErrorCode.Unavailable, $"the cluster did not answer within {timeout.TotalSeconds:0} s; the request may or may not have taken effect")
        : new Rejected(ErrorCode.Unavailable, $"the cluster failed the request: {SafeText.Escape(ask.Exception.InnerException.Message, 200)}");
}
