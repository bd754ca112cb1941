using Akka.Actor;
using Akka.Configuration;
using Akka.Remote;
using Conduit.Protocol.Remoting;
using Conduit.Protocol.Serialization;
using Conduit.Testing;

namespace Conduit.Client.Tests;

/// <summary>
/// A node knows each client by the address the client announces, and Akka does not check that address against the
/// connection. Clients that all announced 127.0.0.1 with the port their own machine gave them could meet on one port and
/// lock each other out; a client on the default local host announces a name of its own instead. And a peer that
/// announces a connected client's whole address makes the node quarantine that client for good: the random part of the
/// client's system name is what nobody else knows (<see cref="ClientSystemName"/>).
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

    [Fact(DisplayName = "a peer announcing a client's host, port and kind of name, its random part guessed, is another client: the client is still answered, the peer gets only its own answers")]
    public async Task ImpostorDoesNotDisplaceAClient()
    {
        await using var node = await TestNode.StartAsync(TestStores.NewSqlite());
        // A quarantined client never hears again: short timeouts, so that failure shows within the test's time.
        await using var client = new ConduitClient(new ConduitClientOptions { Servers = [node.Server], RequestTimeout = TimeSpan.FromSeconds(3) });
        Assert.NotNull(await client.EnqueueAsync("impostor", "the client's"));
        var address = ((ExtendedActorSystem)client.ActorSystem).Provider.DefaultAddress;
        Assert.Matches("^conduit-client-[0-9a-f]{32}$", address.System);

        // What others can see or guess of the client's address: its host and port, and the kind of system it is.
        await using var impostor = Peer.Start(ClientSystemName.New(WireNames.ClientLibrarySystemName), address.Host!, address.Port!.Value);
        var stats = await impostor.Ask(RemotingEndpoint.Address(false, WireNames.ClientSystemName, "127.0.0.1", node.Port), new GetQueueStats("impostor"));
        Assert.Equal(1, Assert.IsType<QueueStats>(stats).Ready);

        for (var i = 0; i < 3; i++)
            Assert.Equal(1, (await client.RequestAsync<QueueStats>(new GetQueueStats("impostor"))).Ready);
        Assert.NotNull(await client.EnqueueAsync("impostor", "the client's, after the impostor"));
        Assert.True(client.IsConnected);
        Assert.Empty(impostor.Misdelivered);
    }

    [Fact(DisplayName = "a connection to a client's own port is closed before Akka's handshake, which would tell the dialer the client's whole address")]
    public async Task ClientTakesNoConnections()
    {
        await using var node = await TestNode.StartAsync(TestStores.NewSqlite());
        await using var client = ConduitClient.Connect(node.Server);
        Assert.NotNull(await client.EnqueueAsync("closed-port", "the client's"));
        var port = ((ExtendedActorSystem)client.ActorSystem).Provider.DefaultAddress.Port!.Value;
        var inbound = new List<object>();
        var watcher = client.ActorSystem.ActorOf(Props.Create(() => new Collector(inbound)));
        client.ActorSystem.EventStream.Subscribe(watcher, typeof(AssociatedEvent));

        // Someone who can reach the client's port (it listens on 127.0.0.1 here) dials it as Akka would.
        await using var stranger = Peer.Start("stranger");
        var dialed = new Address("akka.tcp", WireNames.ClientLibrarySystemName, "127.0.0.1", port);
        var outcome = await stranger.Dial(dialed);
        Assert.IsNotType<AssociatedEvent>(outcome);
        lock (inbound) Assert.DoesNotContain(inbound, e => e is AssociatedEvent { IsInbound: true });
        Assert.NotNull(await client.EnqueueAsync("closed-port", "the client's, after the stranger"));
    }

    /// <summary>
    /// A plain ActorSystem under the name it is told, announcing the host and port it is told (else its own), that
    /// collects what it gets for nobody.
    /// </summary>
    private sealed class Peer : IAsyncDisposable
    {
        private readonly ActorSystem _system;
        private readonly List<object> _misdelivered = [];
        private readonly List<object> _lifecycle = [];

        private Peer(ActorSystem system)
        {
            _system = system;
            var collector = system.ActorOf(Props.Create(() => new Collector(_misdelivered)));
            system.EventStream.Subscribe(collector, typeof(Akka.Event.DeadLetter));
            var lifecycle = system.ActorOf(Props.Create(() => new Collector(_lifecycle)));
            system.EventStream.Subscribe(lifecycle, typeof(RemotingLifecycleEvent));
        }

        public static Peer Start(string systemName, string? publicHost = null, int? publicPort = null)
        {
            // A dial whose connection is closed before the dialer's handshake took hold is given up only at Akka's
            // handshake timeout (its connection-timeout, 15 s): 2 s here, so that Dial sees it within its wait.
            var config = ConfigurationFactory.ParseString("akka.remote.dot-netty.tcp.connection-timeout = 2s")
                .WithFallback(ConfigurationFactory.ParseString(publicPort is { } p ? $"akka.remote.dot-netty.tcp.public-port = {p}" : ""))
                .WithFallback(RemotingEndpoint.RemoteOnlyConfig())
                .WithFallback(ConduitSerialization.Config(strict: true));
            return new Peer(ActorSystem.Create(systemName, new RemotingEndpoint { Host = "127.0.0.1", PublicHost = publicHost }.ToActorSystemSetup(config)));
        }

        /// <summary>Conduit answers that reached this system for none of its actors (another client's).</summary>
        public IReadOnlyList<object> Misdelivered
        {
            get { lock (_misdelivered) return _misdelivered.Where(m => m is IConduitMessage).ToArray(); }
        }

        /// <summary>Sends to <paramref name="address"/> and returns how the association with it went: associated, or failed or ended.</summary>
        public async Task<RemotingLifecycleEvent> Dial(Address address)
        {
            _system.ActorSelection(new RootActorPath(address) / "user" / "anyone").Tell(new Identify(1), ActorRefs.Nobody);
            RemotingLifecycleEvent? outcome = null;
            await Eventually.Holds(() =>
            {
                lock (_lifecycle)
                    outcome = _lifecycle.OfType<RemotingLifecycleEvent>().FirstOrDefault(e => e is AssociatedEvent or AssociationErrorEvent or DisassociatedEvent);
                Assert.NotNull(outcome);
                return Task.CompletedTask;
            });
            return outcome!;
        }

        public Task<object> Ask(string endpoint, object message) =>
            _system.ActorSelection($"{endpoint}{WireNames.FrontendPath}").Ask<object>(message, TimeSpan.FromSeconds(20));

        public async ValueTask DisposeAsync() => await _system.Terminate().WaitAsync(TimeSpan.FromSeconds(20));
    }

    /// <summary>Keeps what it is sent (a dead letter's message), for the test to look at.</summary>
    private sealed class Collector : ReceiveActor
    {
        public Collector(List<object> into) => ReceiveAny(m => { lock (into) into.Add(m is Akka.Event.DeadLetter d ? d.Message : m); });
    }
}
