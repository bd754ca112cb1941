using System.Net;
using System.Net.Sockets;
using Conduit.Server.Hosting;
using Conduit.Testing;

namespace Conduit.Client.Tests;

/// <summary>
/// A TLS client outlives a failed handshake. Akka.Remote 1.5.73 runs coordinated shutdown on a system whose outbound
/// TLS handshake fails, whoever closed it and why; a client's system used to stop there for good, so one node that
/// was restarting (a proxy that takes the connection and drops it) or showed the wrong certificate left the
/// application without a client until it built a new one.
/// </summary>
public sealed class TlsReconnectTests(TestCertificates certs) : IClassFixture<TestCertificates>
{
    private static readonly TimeSpan ShortTimeout = TimeSpan.FromSeconds(3);

    [Fact(DisplayName = "a TLS client whose handshake failed (the connection dropped mid-handshake) works once a node listens there")]
    public async Task ClientOutlivesFailedHandshake()
    {
        // Something that takes every connection, waits for the client's first handshake bytes and resets it: the client's
        // TLS handshake has started, and fails (a connection reset before that is only a failed connect).
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var dropped = 0;
        var accepting = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    var socket = await listener.AcceptSocketAsync();
                    using (var hello = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
                        await socket.ReceiveAsync(new byte[1], SocketFlags.None, hello.Token);
                    // A reset, not a close: no TIME_WAIT is left on the port the node binds next.
                    socket.LingerState = new LingerOption(true, 0);
                    socket.Close();
                    Interlocked.Increment(ref dropped);
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException) { }
        });

        await using var client = new ConduitClient(new ConduitClientOptions
        {
            Servers = [$"127.0.0.1:{port}"],
            TlsCertificatePath = certs.ClientA,
            TlsCaPath = certs.CaA,
            RequestTimeout = ShortTimeout,
        });
        await Assert.ThrowsAnyAsync<ConduitTimeoutException>(() => client.EnqueueAsync("tls-reconnect", "refused"));
        // Akka ran the client's coordinated shutdown for the failed handshake (what used to end the client's system).
        await Eventually.Holds(() =>
        {
            Assert.True(Volatile.Read(ref dropped) > 0, "the client never dialed");
            Assert.Equal("TlsHandshakeFailureReason", Akka.Actor.CoordinatedShutdown.Get(client.ActorSystem).ShutdownReason?.GetType().Name);
            return Task.CompletedTask;
        });
        Assert.False(client.ActorSystem.WhenTerminated.IsCompleted, "the client's system stopped");
        listener.Stop();
        await accepting;

        await using var node = await TestNode.StartAsync(new NodeSettings
        {
            Port = port,
            ClusterPort = 0,
            Storage = TestStores.NewSqlite(),
            Tls = TestCertificates.Settings(certs.NodeA, certs.CaA),
        });
        // What a caller does: retry until the node answers.
        // An attempt that timed out may still have been enqueued: the idempotency key makes the retries one task.
        var once = new EnqueueOptions { IdempotencyKey = "after" };
        await Eventually.Holds(async () => Assert.NotNull(await client.EnqueueAsync("tls-reconnect", "after", once)), timeoutMs: 30_000);
        var task = Assert.Single(await client.PollAsync("tls-reconnect", maxTasks: 10, wait: TimeSpan.FromSeconds(5)));
        Assert.Equal("after", task.PayloadText);
    }
}
