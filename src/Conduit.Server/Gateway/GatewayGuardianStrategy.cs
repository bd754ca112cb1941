using Akka.Actor;

namespace Conduit.Server.Gateway;

/// <summary>
/// Supervision of the client endpoint's top-level actors (the gateways): whatever fails, resume, so a gateway is never
/// stopped by a failure. (A <c>Kill</c> from the network, which Akka's untrusted mode lets through and which stopped a
/// gateway under Akka's default strategy, is now refused on arrival by <c>UntrustedPeerMiscMessageSerializer</c>; this
/// stays for anything else.) Set as the endpoint's <c>akka.actor.guardian-supervisor-strategy</c>.
/// </summary>
public sealed class GatewayGuardianStrategy : SupervisorStrategyConfigurator
{
    public override SupervisorStrategy Create() => new OneForOneStrategy(_ => Directive.Resume);
}
