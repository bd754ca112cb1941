using System.Net;
using System.Net.Sockets;

namespace Conduit.Cli;

/// <summary>
/// Opens (and closes) a plain TCP connection to the node before any actor system starts, so a node that is not
/// there is reported at once (exit 3) instead of after the timeout; the connection's local end is the address the
/// CLI advertises, since the node must be able to answer it.
/// </summary>
public static class ServerProbe
{
    public const string StartNodeHint = "is a node running? start one with `dotnet run --project src/Conduit.Node`";

    /// <summary>The local address that reaches <see cref="CliSettings.Server"/>.</summary>
    /// <exception cref="UnreachableException">Nothing listens there, the host is unknown, or no connection within the timeout.</exception>
    public static async Task<IPAddress> ProbeAsync(CliSettings settings, CancellationToken ct)
    {
        var server = settings.Server;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(settings.Timeout);
        using var tcp = new TcpClient();
        try
        {
            await tcp.ConnectAsync(server.Host, server.Port, cts.Token);
            var local = ((IPEndPoint)tcp.Client.LocalEndPoint!).Address;
            return local.IsIPv4MappedToIPv6 ? local.MapToIPv4() : local;
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
}
