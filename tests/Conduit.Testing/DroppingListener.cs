using System.Net;
using System.Net.Sockets;

namespace Conduit.Testing;

/// <summary>
/// A TCP listener on a free loopback port that takes every connection and drops it with a reset (no TIME_WAIT is
/// left on the port, so a node can bind it next). With <c>afterFirstBytes</c> it waits for the peer's first bytes
/// before the reset, so a TLS client's handshake has started and fails; a reset before that is only a failed connect.
/// </summary>
public sealed class DroppingListener : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Task _accepting;
    private int _accepted;

    private DroppingListener(bool afterFirstBytes)
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = Task.Run(() => Accept(afterFirstBytes));
    }

    /// <summary>Starts listening at once.</summary>
    public static DroppingListener Start(bool afterFirstBytes = false) => new(afterFirstBytes);

    /// <summary>The port it listens on.</summary>
    public int Port { get; }

    /// <summary>Connections taken so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    private async Task Accept(bool afterFirstBytes)
    {
        try
        {
            while (true)
            {
                using var socket = await _listener.AcceptSocketAsync();
                Interlocked.Increment(ref _accepted);
                if (afterFirstBytes)
                {
                    using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                    try
                    {
                        await socket.ReceiveAsync(new byte[1], SocketFlags.None, wait.Token);
                    }
                    catch (Exception e) when (e is SocketException or OperationCanceledException) { }
                }
                socket.LingerState = new LingerOption(true, 0);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    /// <summary>Stops listening; returns when the accept loop has ended.</summary>
    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        await _accepting;
    }
}
