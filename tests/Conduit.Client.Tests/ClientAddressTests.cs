using Akka.Actor;
using Conduit.Testing;

namespace Conduit.Client.Tests;

/// <summary>
/// A node knows each client by the address the client announces. Clients that all announced 127.0.0.1 with the port
/// their own machine gave them could meet on one port and lock each other out; a client on the default local host
/// announces a name of its own instead.
/// </summary>
public sealed class ClientAddressTests
{
    [Fact(DisplayName = "a client on the default local host announces its machine's name with a random part, each client another; both are answered")]
    public async Task ClientsAnnounceNamesOfTheirOwn()
    {
        await using var node = await TestNode.StartAsync(TestStores.NewSqlite());
        await using var a = ConduitClient.Connect(node.Server);
        await using var b = ConduitClient.Connect(node.Server);
        var hostA = ((ExtendedActorSystem)a.ActorSystem).Provider.DefaultAddress.Host;
        var hostB = ((ExtendedActorSystem)b.ActorSystem).Provider.DefaultAddress.Host;

        Assert.NotEqual(hostA, hostB);
        Assert.NotEqual(ConduitClientOptions.DefaultLocalHost, hostA);
        Assert.Matches("^[a-z0-9-]+-[0-9a-f]{6}$", hostA);
        Assert.NotNull(await a.EnqueueAsync("announced", "from a"));
        Assert.NotNull(await b.EnqueueAsync("announced", "from b"));
        Assert.Equal(2, (await a.RequestAsync<QueueStats>(new GetQueueStats("announced"))).Ready);
    }

    [Fact(DisplayName = "a client given a local host announces that host")]
    public async Task GivenLocalHostIsAnnounced()
    {
        await using var client = new ConduitClient(new ConduitClientOptions { Servers = ["127.0.0.1:1"], LocalHost = "127.0.0.2" });
        Assert.Equal("127.0.0.2", ((ExtendedActorSystem)client.ActorSystem).Provider.DefaultAddress.Host);
    }
}
