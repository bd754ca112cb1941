using Akka.Actor;

namespace Conduit.Protocol.Remoting;

/// <summary>What one port's <see cref="ConnectionLimits"/> have done so far: connections open now, and those refused by each limit.</summary>
/// <param name="Port">The listening port.</param>
/// <param name="Open">Connections open now.</param>
/// <param name="RefusedPortFull">Connections closed as they were accepted because the port had its total open.</param>
/// <param name="RefusedAddressFull">Connections closed as they were accepted because their address had its share open.</param>
public readonly record struct ConnectionFigures(int Port, int Open, long RefusedPortFull, long RefusedAddressFull);

/// <summary>
/// The connection gates of one ActorSystem (an Akka extension): where a node's metrics read what its ports' limits
/// did. Akka makes the transport, and with it the gate, from configuration, so the gate registers here. The gates'
/// refusals are logged with this class as their log class.
/// </summary>
public sealed class ConnectionGates : IExtension
{
    private readonly Lock _lock = new();
    private readonly List<ConnectionGate> _gates = [];

    /// <summary>The gates of <paramref name="system"/> (none when its endpoint has no limits).</summary>
    public static ConnectionGates Of(ActorSystem system) => system.WithExtension<ConnectionGates, Provider>();

    /// <summary>Each gated port's figures now.</summary>
    public IReadOnlyList<ConnectionFigures> Figures()
    {
        lock (_lock) return _gates.Select(g => g.Figures()).ToList();
    }

    internal void Add(ConnectionGate gate)
    {
        lock (_lock) _gates.Add(gate);
    }

    private sealed class Provider : ExtensionIdProvider<ConnectionGates>
    {
        public override ConnectionGates CreateExtension(ExtendedActorSystem system) => new();
    }
}
