using System.Diagnostics;
using System.Net.Sockets;
using Xunit;

namespace Conduit.Node.Tests;

/// <summary>What a port scan or a stream of garbage connections costs the node's log: a line a second, no stack traces.</summary>
public sealed class LogFloodTests
{
    [Fact(DisplayName = "a hundred garbage connections to both ports log at most a line a second each, without stack traces, and the node still serves")]
    public async Task GarbageConnections()
    {
        var (node, port, clusterPort) = await StartNode();
        await using var _ = node;
        var before = node.Output.Length;

        var watch = Stopwatch.StartNew();
        var random = new Random(7);
        for (var i = 0; i < 100; i++)
        {
            using var socket = new TcpClient();
            await socket.ConnectAsync("127.0.0.1", i % 2 == 0 ? port : clusterPort);
            var garbage = new byte[64];
            random.NextBytes(garbage);
            garbage[0] = 0x7f; // a frame length far beyond the limit: refused at once
            await socket.GetStream().WriteAsync(garbage);
        }
        var elapsed = watch.Elapsed;
        // The last refusals are logged (or counted) shortly after the sockets close: a line appears for both systems.
        await node.WaitForOutput("[connection][TcpServerHandler (akka://conduit)]");
        await node.WaitForOutput("[connection][TcpServerHandler (akka://conduit-cluster)]");

        var output = node.Output[before..];
        var lines = output.Split('\n').Where(l => l.Contains("[connection]")).ToArray();
        Assert.DoesNotContain("   at ", output);
        // Two systems, each at most one line a second, plus the first of each.
        Assert.InRange(lines.Length, 2, 2 * ((int)elapsed.TotalSeconds + 3));
        await using var client = Conduit.Client.ConduitClient.Connect($"127.0.0.1:{port}");
        Assert.False(string.IsNullOrEmpty((await client.EnqueueAsync("q", "after")).TaskId));
    }

    [Fact(DisplayName = "connections that never start Akka's handshake are closed at its timeout with at most a line a second, without stack traces")]
    public async Task IdleConnections()
    {
        var (node, port, clusterPort) = await StartNode();
        await using var _ = node;
        var before = node.Output.Length;

        var idle = new List<TcpClient>();
        try
        {
            var opened = Stopwatch.GetTimestamp();
            for (var i = 0; i < 80; i++)
            {
                var socket = new TcpClient();
                await socket.ConnectAsync("127.0.0.1", i % 2 == 0 ? port : clusterPort);
                idle.Add(socket);
            }
            // Akka closes each at its handshake timeout (the client port's 5 s, ConnectionOptions.ClientHandshakeTimeout;
            // the cluster port's 15 s); each close is seen here as the end of the stream.
            var closedAt = await Task.WhenAll(idle.Select(async socket =>
            {
                var buffer = new byte[16];
                try
                {
                    while (await socket.GetStream().ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(60)) > 0) { }
                }
                catch (IOException)
                {
                    // reset rather than closed: closed all the same
                }
                return Stopwatch.GetTimestamp();
            }));
            var spread = Stopwatch.GetElapsedTime(closedAt.Min(), closedAt.Max());
            // The client port lets a silent connection hold its place for 5 s, not Akka's 15 s.
            var clientPortLast = Stopwatch.GetElapsedTime(opened, closedAt.Where((_, i) => i % 2 == 0).Max());
            Assert.True(clientPortLast < TimeSpan.FromSeconds(12), $"the client port's silent connections were closed {clientPortLast.TotalSeconds:0.0} s after they opened");

            // Each system's logger writes in order: once a later connection line shows, every timeout before it was
            // written or held back. A garbage connection to each port, until both systems have written one.
            var garbage = new byte[64];
            garbage[3] = 0xff; // a negative frame length (little-endian): refused at once
            await Conduit.Testing.Eventually.Holds(async () =>
            {
                foreach (var p in new[] { port, clusterPort })
                {
                    using var socket = new TcpClient();
                    await socket.ConnectAsync("127.0.0.1", p);
                    await socket.GetStream().WriteAsync(garbage);
                }
                var written = node.Output[before..];
                Assert.Contains("[connection][TcpServerHandler (akka://conduit)]", written);
                Assert.Contains("[connection][TcpServerHandler (akka://conduit-cluster)]", written);
            }, timeoutMs: 30_000, intervalMs: 200);

            var output = node.Output[before..];
            var timeouts = output.Split('\n').Count(l => l.Contains("Handshake timed out", StringComparison.Ordinal));
            Assert.DoesNotContain("   at ", output);
            // Two systems, each at most one line a second, plus the first of each (80 lines before this was cut down).
            Assert.InRange(timeouts, 1, 2 * ((int)spread.TotalSeconds + 2));
            Assert.Contains("more like it held back", output);
        }
        finally
        {
            foreach (var socket in idle) socket.Dispose();
        }
        await using var client = Conduit.Client.ConduitClient.Connect($"127.0.0.1:{port}");
        Assert.False(string.IsNullOrEmpty((await client.EnqueueAsync("q", "after")).TaskId));
    }

    /// <summary>A node process on free client and cluster ports (SQLite), listening.</summary>
    private static async Task<(NodeProcess Node, int Port, int ClusterPort)> StartNode()
    {
        var port = NodeProcess.FreePort();
        var clusterPort = NodeProcess.FreePort();
        var data = Path.Combine(Path.GetTempPath(), "conduit-node-tests", Guid.NewGuid().ToString("N"));
        var node = NodeProcess.Start("--port", port.ToString(), "--cluster-port", clusterPort.ToString(), "--data", data);
        try
        {
            await node.WaitForOutput($"Conduit node listening on akka.tcp://conduit@127.0.0.1:{port}");
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
        return (node, port, clusterPort);
    }
}
