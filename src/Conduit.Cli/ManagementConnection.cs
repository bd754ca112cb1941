using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Configuration;

namespace Conduit.Cli;

/// <summary>
/// The CLI's line to one node: a small remoting-only actor system (not a cluster member) that asks the node's
/// management actor at <c>akka.tcp://conduit@host:port/user/management</c>. It talks to exactly the node named by
/// <c>--server</c>, as pbm does, because some commands are about that node (<c>cluster join</c>, the "self" of
/// <c>cluster show</c>). Before starting Akka it opens a plain TCP connection to the port, so a node that is not
/// there is reported at once instead of after the timeout.
/// </summary>
public sealed class ManagementConnection : IAsyncDisposable
{
    public const string StartNodeHint = "is a node running? start one with `dotnet run --project src/Conduit.Node`";

    /// <summary>
    /// Largest message either way: 32 MiB (Akka's default, 128 kB, is below one 256 KiB payload). The node sets the same
    /// (<c>ConduitNode.BaseHocon</c>); a larger message is dropped by remoting and shows as no answer.
    /// </summary>
    public const string MaximumFrameSize = "32MiB";

    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(3);

    private readonly ActorSystem _system;
    private readonly ActorSelection _management;
    private readonly CliSettings _settings;

    private ManagementConnection(ActorSystem system, CliSettings settings)
    {
        _system = system;
        _settings = settings;
        _management = system.ActorSelection($"{settings.Server.AkkaAddress}/user/management");
    }

    public static async Task<ManagementConnection> OpenAsync(CliSettings settings, CancellationToken ct = default)
    {
        var local = await ProbeAsync(settings, ct);
        var system = ActorSystem.Create("conduit-cli", Config(local));
        return new ManagementConnection(system, settings);
    }

    /// <summary>Sends <paramref name="request"/> and returns the reply; a <see cref="Rejected"/> reply throws <see cref="RefusedException"/>.</summary>
    public async Task<T> AskAsync<T>(IConduitMessage request, TimeSpan? extraWait = null, CancellationToken ct = default)
    {
        var timeout = _settings.Timeout + (extraWait ?? TimeSpan.Zero);
        object reply;
        try
        {
            reply = await _management.Ask<object>(request, timeout, ct);
        }
        catch (AskTimeoutException)
        {
            throw new UnreachableException(
                $"no answer from {_settings.Server} within {Durations.Format(timeout)}: is it a Conduit node, and is the host " +
                $"the one it advertises (its log prints `listening on akka.tcp://conduit@HOST:PORT`)? If it is busy, raise --timeout");
        }
        return reply switch
        {
            T t => t,
            Rejected r => throw new RefusedException(r),
            _ => throw new InvalidOperationException($"unexpected answer {reply.GetType().Name} to {request.GetType().Name}"),
        };
    }

    /// <summary>Opens (and closes) a TCP connection to the node; returns the local address that reaches it.</summary>
    private static async Task<IPAddress> ProbeAsync(CliSettings settings, CancellationToken ct)
    {
        var server = settings.Server;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(settings.Timeout);
        using var tcp = new TcpClient();
        try
        {
            await tcp.ConnectAsync(server.Host, server.Port, cts.Token);
            return ((IPEndPoint)tcp.Client.LocalEndPoint!).Address switch
            {
                { IsIPv4MappedToIPv6: true } mapped => mapped.MapToIPv4(),
                var address => address,
            };
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new UnreachableException($"cannot reach {server}: no connection within {Durations.Format(settings.Timeout)}; {StartNodeHint}");
        }
        catch (SocketException e)
        {
            var why = e.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => "connection refused",
                SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => $"unknown host '{server.Host}'",
                _ => e.Message,
            };
            throw new UnreachableException($"cannot reach {server} ({why}): {StartNodeHint}");
        }
    }

    private static Config Config(IPAddress local) => ConfigurationFactory.ParseString($$"""
        akka {
          loglevel = OFF
          stdout-loglevel = OFF
          log-dead-letters = off
          log-dead-letters-during-shutdown = off
          actor {
            provider = remote
            serializers.conduit = "Conduit.Protocol.Serialization.ProtocolSerializer, Conduit.Protocol"
            serialization-bindings { "Conduit.Protocol.IConduitMessage, Conduit.Protocol" = conduit }
          }
          remote {
            log-remote-lifecycle-events = off
            dot-netty.tcp { hostname = "{{local}}", port = 0, maximum-frame-size = {{MaximumFrameSize}} }
          }
          coordinated-shutdown.run-by-clr-shutdown-hook = off
        }
        """);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _system.Terminate().WaitAsync(ShutdownTimeout);
        }
        catch (TimeoutException)
        {
            // the answer is printed already; do not hold the shell up for remoting's goodbye
        }
        _system.Dispose();
    }
}
