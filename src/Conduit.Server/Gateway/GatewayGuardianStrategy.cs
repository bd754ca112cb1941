using Akka.Actor;

namespace Conduit.Server.Gateway;

/// <summary>
/// Supervision of the client endpoint's top-level actors (the gateways): whatever fails, resume. Akka's untrusted mode
/// drops <c>PoisonPill</c> and system messages from the network, but not <c>Kill</c>, which makes the receiving actor
/// throw <see cref="ActorKilledException"/>; under Akka's default strategy that stopped a gateway for good. Set as the
/// endpoint's <c>akka.actor.guardian-supervisor-strategy</c>.
/// </summary>
public sealed class GatewayGuardianStrategy : SupervisorStrategyConfigurator
{
    public override SupervisorStrategy Create() => new OneForOneStrategy(_ => Directive.Resume);
}
