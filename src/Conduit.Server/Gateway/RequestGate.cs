namespace Conduit.Server.Gateway;

/// <summary>
/// What a request from the network must pass before the cluster sees it: the right kind for the path it was sent to,
/// and (when keys are configured) a valid credential whose roles and namespaces cover the request. Operator requests get
/// the authenticated identity and the peer's address as their requester, whatever the sender wrote there.
/// </summary>
internal sealed class RequestGate
{
    /// <summary>How long a gateway waits for the cluster's answer to a request other than a poll: 60 s.</summary>
    public static readonly TimeSpan DefaultAnswerTimeout = TimeSpan.FromSeconds(60);

    /// <summary>A poll waits its own wait time plus this: 30 s.</summary>
    public static readonly TimeSpan PollAnswerMargin = TimeSpan.FromSeconds(30);

    public static TimeSpan AnswerTimeout(IClientRequest request) => request switch
    {
        Poll { WaitMs: > 0 and <= 24L * 3600 * 1000 } poll => TimeSpan.FromMilliseconds(poll.WaitMs) + PollAnswerMargin,
        _ => DefaultAnswerTimeout,
    };

    /// <summary>null when <paramref name="message"/> may go on as <paramref name="request"/>; otherwise the refusal to send back.</summary>
    public Rejected? Admit(object message, GatewayKind kind, string peer, out IClientRequest request)
    {
        request = null!;
        var inner = message as IClientRequest;
        var who = "anonymous";
        if (inner is null)
            return new Rejected(ErrorCode.InvalidArgument, $"{SafeText.Escape(message.GetType().Name, 100)} is not a Conduit request");
        switch (kind, inner)
        {
            case (GatewayKind.Frontend, IPartitionRequest):
                request = inner;
                return null;
            case (GatewayKind.Management, ChangeMembership change):
                request = change with { By = new Requester(who, peer) };
                return null;
            case (GatewayKind.Management, OperatorRequest op):
                request = op with { By = new Requester(who, peer) };
                return null;
            case (GatewayKind.Management, IManagementRequest):
                request = inner;
                return null;
            case (GatewayKind.Frontend, _):
                return new Rejected(ErrorCode.InvalidArgument, $"{inner.GetType().Name} is an operator request: send it to {WireNames.ManagementPath}");
            default:
                return new Rejected(ErrorCode.InvalidArgument,
                    $"{inner.GetType().Name} is a queue request: send it to {WireNames.FrontendPath}, or wrap it in an OperatorRequest");
        }
    }
}
