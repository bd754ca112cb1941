using Conduit.Testing;

namespace Conduit.Client.Tests;

/// <summary>
/// A client whose connection to its node is reset (a firewall, a NAT or a load balancer forgets it) or closed, and
/// that dials again with the same ActorSystem, as <see cref="ConduitClient"/> does, is answered again over its new
/// connection.
/// The node's client endpoint never dials clients (docs/security.md, "Reply addresses"), so the endpoint must answer
/// over the new connection and not over the dead one Akka remembers for the client's address.
/// </summary>
public sealed class ConnectionResetTests
{
    private static readonly TimeSpan ShortTimeout = TimeSpan.FromSeconds(2);

    [Fact(DisplayName = "after its connection is reset or closed, the same client is answered again over a new one")]
    public async Task ClientAnsweredAfterReset()
    {
        await using var node = await TestNode.StartAsync(TestStores.NewSqlite());
        // A request sent into the dead connection is lost with it: short timeouts, so the retries below come soon.
        await using var client = new ConduitClient(new ConduitClientOptions { Servers = [node.Server], RequestTimeout = ShortTimeout });
        Assert.Equal(0, (await client.RequestAsync<QueueStats>(new GetQueueStats("reset"))).Ready);

        // The node's end of the connection is reset, then the client's; then the client gives its connection up (a FIN),
        // which left Akka writing the client's answers into the dead connection.
        Func<int, Task<int>>[] resets =
        [
            NetworkFault.ResetConnectionsAt,
            NetworkFault.ResetConnectionsTo,
            _ => Task.FromResult(NetworkFault.CloseConnectionsOf(client.ActorSystem)),
        ];
        for (var round = 1; round <= resets.Length; round++)
        {
            Assert.True(await resets[round - 1](node.Port) >= 1, "no connection of the client was reset or closed (does this kernel let ss -K destroy sockets?)");
            // What a caller does: retry until the node answers.
            // An attempt that timed out may still have been enqueued: the idempotency key makes the retries one task.
            var once = new EnqueueOptions { IdempotencyKey = $"round-{round}" };
            await Eventually.Holds(async () => Assert.NotNull(await client.EnqueueAsync("reset", $"after reset {round}", once)), timeoutMs: 20_000);
            Assert.Equal(round, (await client.RequestAsync<QueueStats>(new GetQueueStats("reset"))).Ready);
        }
        Assert.True(client.IsConnected);
    }
}
