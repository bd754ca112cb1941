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
        var port = NodeProcess.FreePort();
        var clusterPort = NodeProcess.FreePort();
        var data = Path.Combine(Path.GetTempPath(), "conduit-node-tests", Guid.NewGuid().ToString("N"));
        await using var node = NodeProcess.Start("--port", port.ToString(), "--cluster-port", clusterPort.ToString(), "--data", data);
        await node.WaitForOutput($"Conduit node listening on akka.tcp://conduit@127.0.0.1:{port}");
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
}
