using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Conduit.Protocol;
using Conduit.Server.Hosting;
using Conduit.Server.Remoting;
using Conduit.Testing;
using Xunit;

namespace Conduit.Client.Tests;

/// <summary>
/// Each port holds at most so many connections at once, in all and from one IP address (<see cref="ConnectionOptions"/>):
/// a connection past a limit is closed as it is accepted, and a closed one frees its place. Raw sockets stand for an
/// attacker; loopback's other addresses (127.0.0.2, …) for other machines.
/// </summary>
public sealed class ConnectionLimitTests
{
    /// <summary>
    /// A refused connection is closed at once; an admitted one that says nothing is closed only at the handshake timeout
    /// (30 s here on the client port, Akka's 15 s on the cluster port). Closed within this, it was the gate's refusal.
    /// </summary>
    private static readonly TimeSpan Refusal = TimeSpan.FromSeconds(5);

    [Fact(DisplayName = "past the limit per address, a port closes the next connection from that address at once; other addresses are still served, on both ports")]
    public async Task PerAddress()
    {
        await using var node = await Start(new ConnectionOptions
        {
            MaxClientConnections = 100, MaxClientConnectionsPerAddress = 3, MaxClusterConnections = 100, MaxClusterConnectionsPerAddress = 3,
        });
        // Each connection holds its place while it is open and gives it back when it closes.
        for (var i = 0; i < 10; i++)
        {
            var (port, name) = i % 2 == 0 ? (node.Port, "client") : (node.ClusterPort, "cluster");
            using (await Sockets.Connect("127.0.0.2", port)) await OpenConnections(node, name, 1);
            await OpenConnections(node, name, 0);
        }

        using var held = new Sockets();
        foreach (var port in new[] { node.Port, node.ClusterPort })
        {
            await held.Open("127.0.0.2", port, count: 3);
            using var fourth = await Sockets.Connect("127.0.0.2", port);
            await AssertClosedAtOnce(fourth, $"a fourth connection from 127.0.0.2 to port {port}");
        }
        // The node's metrics say so (read long before Akka's handshake timeout closes the held ones): the three held on each
        // port are open, one refusal per port for the address's share, none for a full port.
        var metrics = ReadMetrics(node);
        Assert.Equal(3, metrics["conduit.connections.open/client/"]);
        Assert.InRange(metrics["conduit.connections.open/cluster/"], 3, 10);
        Assert.Equal(1, metrics["conduit.connections.refused/client/address_full"]);
        Assert.Equal(1, metrics["conduit.connections.refused/cluster/address_full"]);
        Assert.Equal(0, metrics["conduit.connections.refused/client/port_full"]);

        // Clients elsewhere are let in: a client from 127.0.0.1 is served.
        await using var client = new ConduitClient(new ConduitClientOptions { Servers = [node.Server], RequestTimeout = TimeSpan.FromSeconds(5) });
        await AssertServed(client, "from elsewhere");
    }

    [Fact(DisplayName = "past a port's total, every new connection is closed at once, a client's too; when connections close, their places are free again")]
    public async Task TotalAndRelease()
    {
        await using var node = await Start(new ConnectionOptions { MaxClientConnections = 4, MaxClientConnectionsPerAddress = 3 });
        // One place: a client that is served.
        await using var first = new ConduitClient(new ConduitClientOptions { Servers = [node.Server], RequestTimeout = TimeSpan.FromSeconds(5) });
        await AssertServed(first, "first");

        // Three more from another address fill the port (they are closed only at the handshake timeout, 30 s here).
        using var held = new Sockets();
        await held.Open("127.0.0.2", node.Port, count: 3);

        // Full: a third address, below its own limit, is refused; so is a new client, which fails its request.
        await AssertRefusedOnClientPort(node, "127.0.0.3", "port_full", "a connection from 127.0.0.3 with the port full");
        // Akka.Remote drops a close that reaches the dialer before it has registered its listener (TcpHandlers), and the
        // dialer then gives up at its handshake timeout, its connection-timeout (15 s): 2 s here, so that the client dials
        // again within the test's wait once there is room.
        await using var second = new ConduitClient(new ConduitClientOptions
        {
            Servers = [node.Server], RequestTimeout = TimeSpan.FromSeconds(2), ExtraHocon = "akka.remote.dot-netty.tcp.connection-timeout = 2s",
        });
        var failure = await Record.ExceptionAsync(() => second.EnqueueAsync("limits", "refused"));
        Assert.True(failure is ConduitTimeoutException or UnavailableException, $"a client with the port full: {failure?.GetType().Name ?? "served"}");
        // The client that holds its place is still served.
        await AssertServed(first, "first, with the port full");

        // The held connections close: their places are free, and the new client gets in (it dials again after Akka's gate).
        held.Dispose();
        await Eventually.Holds(() => AssertServed(second, "second"), timeoutMs: 10_000, intervalMs: 200);
    }

    [Fact(DisplayName = "with mutual TLS, a connection past the limit is closed before the TLS handshake; a client with a certificate is served")]
    public async Task BeforeTls()
    {
        using var certs = new TestCertificates();
        await using var node = await Start(new ConnectionOptions { MaxClientConnectionsPerAddress = 2 }, TestCertificates.Settings(certs.NodeA, certs.CaA));
        // Two that never start TLS hold their places; the third from their address is closed at once, without a TLS byte.
        using var held = new Sockets();
        await held.Open("127.0.0.2", node.Port, count: 2);
        await AssertRefusedOnClientPort(node, "127.0.0.2", "address_full", "a third connection from 127.0.0.2 to a TLS port");

        await using var client = new ConduitClient(new ConduitClientOptions
        {
            Servers = [node.Server], RequestTimeout = TimeSpan.FromSeconds(5), TlsCertificatePath = certs.ClientA, TlsCaPath = certs.CaA,
        });
        await AssertServed(client, "over TLS");
    }

    [Fact(DisplayName = "connection limits below 1 are refused when the options are read, naming the option; a total below the per-address default is fine")]
    public void BadOptions()
    {
        Assert.Equal(nameof(ConnectionOptions.MaxClientConnections),
            Assert.Throws<ArgumentOutOfRangeException>(() => new ConnectionOptions { MaxClientConnections = 0 }.Validate()).ParamName);
        Assert.Equal(nameof(ConnectionOptions.MaxClusterConnectionsPerAddress),
            Assert.Throws<ArgumentOutOfRangeException>(() => new ConnectionOptions { MaxClusterConnectionsPerAddress = 0 }.Validate()).ParamName);
        new ConnectionOptions { MaxClusterConnections = 50 }.Validate();
        new ConnectionOptions().Validate();
    }

    /// <summary>Waits until the node counts <paramref name="count"/> connections open on <paramref name="port"/> (client, cluster).</summary>
    private static Task OpenConnections(TestNode node, string port, long count) =>
        Eventually.Holds(() =>
        {
            Assert.Equal(count, ReadMetrics(node)[$"conduit.connections.open/{port}/"]);
            return Task.CompletedTask;
        }, timeoutMs: 5_000, intervalMs: 20);

    /// <summary>The node's connection instruments, read as its exporter would: <c>name/port/reason</c> to value.</summary>
    private static Dictionary<string, long> ReadMetrics(TestNode node)
    {
        var values = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, node.Metrics.Meter) && instrument.Name.StartsWith("conduit.connections.", StringComparison.Ordinal))
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string port = "", reason = "";
            foreach (var tag in tags)
            {
                if (tag.Key == "port") port = (string)tag.Value!;
                if (tag.Key == "reason") reason = (string)tag.Value!;
            }
            values[$"{instrument.Name}/{port}/{reason}"] = value;
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return values;
    }

    private static Task<TestNode> Start(ConnectionOptions connections, Conduit.Protocol.Remoting.TlsSettings? tls = null) =>
        TestNode.StartAsync(new NodeSettings
        {
            Port = 0,
            ClusterPort = 0,
            Storage = TestStores.NewSqlite(),
            Server = new ConduitServerOptions { Partition = TestNode.FastPartitionOptions },
            Tls = tls,
            // Held connections stay open for the test's length (its refusals are told from Akka's closes by time).
            Connections = connections with { ClientHandshakeTimeout = TimeSpan.FromSeconds(30) },
        });

    /// <summary>
    /// A new connection from <paramref name="from"/> to the client port is closed at once, and it is the port's first refusal
    /// for <paramref name="reason"/> in the node's metrics.
    /// </summary>
    private static async Task AssertRefusedOnClientPort(TestNode node, string from, string reason, string what)
    {
        using var socket = await Sockets.Connect(from, node.Port);
        await AssertClosedAtOnce(socket, what);
        Assert.Equal(1, ReadMetrics(node)[$"conduit.connections.refused/client/{reason}"]);
    }

    /// <summary>An enqueue through <paramref name="client"/> is answered with a task id.</summary>
    private static async Task AssertServed(ConduitClient client, string payload) =>
        Assert.False(string.IsNullOrEmpty((await client.EnqueueAsync("limits", payload)).TaskId));

    /// <summary>The node closed <paramref name="socket"/> within <see cref="Refusal"/>: end of stream or a reset.</summary>
    private static async Task AssertClosedAtOnce(TcpClient socket, string what)
    {
        var buffer = new byte[16];
        try
        {
            var read = await socket.GetStream().ReadAsync(buffer).AsTask().WaitAsync(Refusal);
            Assert.True(read == 0, $"{what}: the node sent {read} bytes instead of closing it");
        }
        catch (IOException)
        {
            // reset rather than closed: closed all the same
        }
        catch (TimeoutException)
        {
            Assert.Fail($"{what} was not closed within {Refusal.TotalSeconds:0} s: it was let in");
        }
    }

    /// <summary>Raw connections held open, from a given loopback address, as an attacker's.</summary>
    private sealed class Sockets : IDisposable
    {
        private readonly List<TcpClient> _open = [];

        public async Task Open(string from, int port, int count = 1)
        {
            for (var i = 0; i < count; i++) _open.Add(await Connect(from, port));
        }

        public static async Task<TcpClient> Connect(string from, int port)
        {
            var socket = new TcpClient(new IPEndPoint(IPAddress.Parse(from), 0));
            await socket.ConnectAsync(IPAddress.Loopback, port);
            return socket;
        }

        public void Dispose()
        {
            foreach (var socket in _open) socket.Dispose();
            _open.Clear();
        }
    }
}
