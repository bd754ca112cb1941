using System.Net;
using System.Reflection;
using Akka.Event;
using Akka.Remote.Transport;
using DotNetty.Transport.Channels;

namespace Conduit.Protocol.Remoting;

/// <summary>
/// Holds a listening port to its <see cref="ConnectionLimits"/>. It sits first in the pipeline of DotNetty's server
/// channel, where every accepted connection passes before it is registered (and so before TLS and Akka's handshake): a
/// connection past a limit is closed there, the others are counted until their close. DotNetty completes a registered
/// channel's close once, whoever closes it (the peer, Akka's handshake timeout, a quarantine), so every admitted
/// connection is counted down once. Each refusal is a warning from <see cref="ConnectionGates"/>; a node's logger cuts
/// those to a line a second with its other connection lines (NodeLogger), and <see cref="Figures"/> counts them all.
/// </summary>
internal sealed class ConnectionGate : ChannelHandlerAdapter
{
    private readonly ConnectionLimits _limits;
    private readonly ILoggingAdapter _log;
    private readonly int _port;
    private readonly Dictionary<IPAddress, int> _perAddress = new();
    private readonly Lock _lock = new();
    private int _open;
    private long _refusedPortFull;
    private long _refusedAddressFull;

    private ConnectionGate(ConnectionLimits limits, ILoggingAdapter log, int port)
    {
        _limits = limits;
        _log = log;
        _port = port;
    }

    /// <summary>
    /// Puts a gate in front of <paramref name="transport"/>'s listening channel. Call after its <c>Listen</c> and before
    /// Akka's listener is registered: until then DotNetty accepts nothing (the server channel does not read), so no
    /// connection passes uncounted.
    /// </summary>
    public static void Attach(Transport transport, ConnectionLimits limits, ILoggingAdapter log)
    {
        var server = ServerChannelOf(transport);
        var gate = new ConnectionGate(limits, log, (server.LocalAddress as IPEndPoint)?.Port ?? 0);
        server.Pipeline.AddFirst("conduit-connection-gate", gate);
        ConnectionGates.Of(transport.System).Add(gate);
    }

    /// <summary>What the gate has done so far (<see cref="ConnectionGates"/>).</summary>
    public ConnectionFigures Figures()
    {
        lock (_lock) return new ConnectionFigures(_port, _open, _refusedPortFull, _refusedAddressFull);
    }

    /// <summary>
    /// The listening channel of Akka's DotNetty transport: its field <c>ServerChannel</c>, which Akka.Remote does not
    /// make public. Akka.Remote is pinned (docs: DEPENDENCIES.md); a version without it fails here, at start.
    /// </summary>
    private static IChannel ServerChannelOf(Transport transport)
    {
        for (var type = transport.GetType(); type is not null; type = type.BaseType)
        {
            if (type.GetField("ServerChannel", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly) is { } field)
                return field.GetValue(transport) as IChannel
                       ?? throw new InvalidOperationException($"{transport.GetType().Name} is not listening: no server channel to gate");
        }
        throw new InvalidOperationException($"{transport.GetType().FullName} has no DotNetty server channel: connection limits need Akka's DotNetty TCP transport");
    }

    public override bool IsSharable => false;

    public override void ChannelRead(IChannelHandlerContext context, object message)
    {
        if (message is IChannel child)
        {
            var address = AddressOf(child);
            if (!TryAdmit(address, out var why))
            {
                _log.Warning("Refused a connection from {0} to port {1}: {2}", address, _port, why);
                child.Unsafe.CloseForcibly();
                return;
            }
            child.CloseCompletion.ContinueWith((_, state) => Release((IPAddress)state!), address, CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        context.FireChannelRead(message);
    }

    private static IPAddress AddressOf(IChannel child) =>
        child.RemoteAddress is IPEndPoint ip ? ConnectionLimits.SourceOf(ip.Address) : IPAddress.None;

    private bool TryAdmit(IPAddress address, out string why)
    {
        lock (_lock)
        {
            _perAddress.TryGetValue(address, out var fromAddress);
            if (_open >= _limits.MaxConnections)
            {
                _refusedPortFull++;
                why = $"{_open} connections open, the port's limit";
                return false;
            }
            if (fromAddress >= _limits.MaxConnectionsPerAddress)
            {
                _refusedAddressFull++;
                why = $"{fromAddress} connections open from this source, the limit per address";
                return false;
            }
            _open++;
            _perAddress[address] = fromAddress + 1;
            why = "";
            return true;
        }
    }

    private void Release(IPAddress address)
    {
        lock (_lock)
        {
            _open--;
            if (_perAddress.TryGetValue(address, out var fromAddress) && fromAddress > 1) _perAddress[address] = fromAddress - 1;
            else _perAddress.Remove(address);
        }
    }
}
