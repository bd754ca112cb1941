using Akka.Actor;
using Akka.Hosting;
using Conduit.Server.Gateway;
using Conduit.Server.Hosting;
using Conduit.Server.Security;

namespace Conduit.Server.Dashboard;

/// <summary>
/// What the dashboard asks of the node: its management actor (the one the <c>conduit</c> CLI reaches over remoting,
/// here asked in-process, so every queue request goes through the same <see cref="OperatorRequest"/> path and audit
/// lines), and the node's key store (the client endpoint's, so a key revoked there is revoked here).
/// </summary>
internal sealed class DashboardBackend(ActorSystem system, ActorRegistry registry)
{
    /// <summary>How long one request waits for the node: 15 s (a queue list fans out to every node within 5 s).</summary>
    public static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(15);

    /// <summary>The node's key store; null until the client endpoint has started (the dashboard then refuses everything).</summary>
    public KeyStore? Keys => ClientEndpoint.Of(system)?.Keys;

    /// <summary>The management actor's answer to <paramref name="request"/>: its reply, or <see cref="Rejected"/> (also for no answer in time).</summary>
    public async Task<object> Ask(IManagementRequest request, CancellationToken cancellationToken)
    {
        if (!registry.TryGet<ConduitManagement>(out var management))
            return new Rejected(ErrorCode.Unavailable, "the node's management actor has not started yet");
        try
        {
            return await management.Ask<object>(request, AskTimeout, cancellationToken);
        }
        catch (AskTimeoutException)
        {
            return new Rejected(ErrorCode.Unavailable, $"the node did not answer within {AskTimeout.TotalSeconds:0} s");
        }
    }

    /// <summary>A queue request made by <paramref name="by"/>, through the management actor (which audits it).</summary>
    public Task<object> Operator(IPartitionRequest request, Requester by, CancellationToken cancellationToken) =>
        Ask(new OperatorRequest(request, by), cancellationToken);
}
