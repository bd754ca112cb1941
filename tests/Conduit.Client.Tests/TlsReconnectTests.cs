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
        await using var listener = DroppingListener.Start(afterFirstBytes: true);
        var port = listener.Port;

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
            Assert.True(listener.Accepted > 0, "the client never dialed");
            Assert.Equal("TlsHandshakeFailureReason", Akka.Actor.CoordinatedShutdown.Get(client.ActorSystem).ShutdownReason?.GetType().Name);
            return Task.CompletedTask;
        });
        Assert.False(client.ActorSystem.WhenTerminated.IsCompleted, "the client's system stopped");
        // The port is free again, for the node.
        await listener.DisposeAsync();

        await using var node = await TestNode.StartAsync(TestStores.NewSqlite(), port: port, tls: TestCertificates.Settings(certs.NodeA, certs.CaA));
        // What a caller does: retry until the node answers.
        // An attempt that timed out may still have been enqueued: the idempotency key makes the retries one task.
        var once = new EnqueueOptions { IdempotencyKey = "after" };
        await Eventually.Holds(async () => Assert.NotNull(await client.EnqueueAsync("tls-reconnect", "after", once)), timeoutMs: 30_000);
        var task = Assert.Single(await client.PollAsync("tls-reconnect", maxTasks: 10, wait: TimeSpan.FromSeconds(5)));
        Assert.Equal("after", task.PayloadText);
    }
}
