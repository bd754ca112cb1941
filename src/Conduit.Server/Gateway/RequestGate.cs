using Akka.Actor;
using Conduit.Protocol.Remoting;
using Conduit.Server.Security;

namespace Conduit.Server.Gateway;

/// <summary>
/// What a request from the network must pass before the cluster sees it: the right kind for the path it was sent to, and
/// (when the node has a keys file) a valid API key whose roles and namespaces cover the request
/// (<see cref="RequestAuthorizer"/>). Operator requests get the authenticated identity and the peer's address as their
/// requester, whatever the sender wrote there. Thread-safe.
/// </summary>
internal sealed class RequestGate(KeyStore keys)
{
    /// <summary>How long a gateway waits for the cluster's answer to a request other than a poll: 60 s.</summary>
    public static readonly TimeSpan DefaultAnswerTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A poll waits its own wait time plus this: 5 s. Less than the client library's margin
    /// (<c>ConduitClientOptions.PollTimeoutMargin</c>, 10 s), so the gateway gives up first and releases any tasks that
    /// come later (<see cref="GatewayActor.LateAnswerGrace"/>); more than the frontend's own margin
    /// (<see cref="Frontend.PollRouter.DefaultAnswerMargin"/>, 2 s).
    /// </summary>
    public static readonly TimeSpan PollAnswerMargin = TimeSpan.FromSeconds(5);

    private readonly RequestAuthorizer _authorizer = new(keys);

    public KeyStore Keys => keys;

    public static TimeSpan AnswerTimeout(IClientRequest request) => request switch
    {
        Poll { WaitMs: > 0 and <= 24L * 3600 * 1000 } poll => TimeSpan.FromMilliseconds(poll.WaitMs) + PollAnswerMargin,
        _ => DefaultAnswerTimeout,
    };

    /// <summary>The outcome for one message: the request to pass on (null when refused), who sent it, and the refusal.</summary>
    public readonly record struct Admission(IClientRequest? Request, Identity? Who, Rejected? Refusal);

    /// <summary>
    /// Who made a request, as audit lines show it: the authenticated identity and the peer's address, without the random
    /// part of a client's system name (<see cref="ClientSystemName"/>), which is what keeps others from posing as it.
    /// </summary>
    public static Requester RequesterOf(Identity? who, Address peer) => new(who?.Name ?? Identity.Anonymous.Name, ShownAddress(peer));

    /// <summary>A peer's address as a node shows it (logs, audit lines): without the random part of a client's system name.</summary>
    public static string ShownAddress(Address peer) => ClientSystemName.Redact(peer.ToString());

    /// <summary>
    /// Whether a reply may go to <paramref name="sender"/>: a request names where its reply goes, and a forged one could
    /// make this endpoint deliver it into a node (any Conduit node's cluster or client endpoint, this process included).
    /// Such requests are dropped unanswered.
    /// </summary>
    public static bool IsClientAddress(Address sender) =>
        sender.HasGlobalScope && sender.System is not (WireNames.ClusterSystemName or WireNames.ClientSystemName);

    /// <summary>A schedule change as made by <paramref name="by"/>, whatever the sender wrote there.</summary>
    private static IScheduleChange WithRequester(IScheduleChange change, Requester by) => change switch
    {
        PutSchedule put => put with { By = by },
        PauseSchedule pause => pause with { By = by },
        ResumeSchedule resume => resume with { By = by },
        DeleteSchedule delete => delete with { By = by },
        TriggerSchedule trigger => trigger with { By = by },
        _ => throw new ArgumentOutOfRangeException(nameof(change), change.GetType().Name, "a schedule change the gate does not know"),
    };

    /// <param name="peer">The sender's address; made into text only for the requester of management requests.</param>
    public Admission Admit(object message, GatewayKind kind, Address peer)
    {
        IClientRequest? request;
        Identity who;
        switch (message)
        {
            case KeyedRequest keyed:
                var decision = _authorizer.Authorize(keyed);
                if (decision.Refusal is { } refused) return new Admission(null, decision.Who, refused);
                request = keyed.Request;
                who = decision.Who!;
                break;
            case IClientRequest bare when keys.IsOpen:
                request = bare;
                who = Identity.Anonymous;
                break;
            case IClientRequest:
                return new Admission(null, null, new Rejected(ErrorCode.Unauthorized,
                    "this cluster requires an API key: set ConduitClientOptions.ApiKey, or --api-key / CONDUIT_API_KEY for the CLI"));
            default:
                return new Admission(null, null,
                    new Rejected(ErrorCode.InvalidArgument, $"{SafeText.Escape(message.GetType().Name, 100)} is not a Conduit request"));
        }
        return (kind, request) switch
        {
            (GatewayKind.Frontend, IPartitionRequest) => new Admission(request, who, null),
            (GatewayKind.Management, ChangeMembership change) => new Admission(change with { By = RequesterOf(who, peer) }, who, null),
            (GatewayKind.Management, OperatorRequest { Request: null }) => new Admission(null, who,
                new Rejected(ErrorCode.InvalidArgument, "an operator request without a request")),
            (GatewayKind.Management, OperatorRequest op) => new Admission(op with { By = RequesterOf(who, peer) }, who, null),
            (GatewayKind.Management, IScheduleChange change) => new Admission(WithRequester(change, RequesterOf(who, peer)), who, null),
            (GatewayKind.Management, IManagementRequest) => new Admission(request, who, null),
            (GatewayKind.Frontend, _) => new Admission(null, who, new Rejected(ErrorCode.InvalidArgument,
                $"{request.GetType().Name} is an operator request: send it to {WireNames.ManagementPath}")),
            _ => new Admission(null, who, new Rejected(ErrorCode.InvalidArgument,
                $"{request.GetType().Name} is a queue request: send it to {WireNames.FrontendPath}, or wrap it in an OperatorRequest")),
        };
    }
}
