using System.Diagnostics;
using Conduit.Client;
using Conduit.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Conduit.Node.Tests.Faults;

[Collection(ProcessFaultCollection.Name)]
public sealed class ClientReconnectTests(ITestOutputHelper output)
{
    /// <summary>A client that was attached to a node attaches to it again within this of its listening after a restart.</summary>
    private const long ReconnectTargetMs = 3_000;

    /// <remarks>
    /// The assertion is on the client's part: re-attaching (its association to the old address gated 1 s, not Akka's 5 s).
    /// The first answer also waits for the partition to recover in the new process, which on a machine busy with other test
    /// assemblies took up to 5.7 s (1.2-1.5 s alone); that time is printed here and measured by the fault runs, not asserted
    /// (speed is measured by bench/ and the fault timings, not by timed tests).
    /// </remarks>
    [Fact(DisplayName = "a client attached to a single node that is killed and restarted re-attaches within 3 s of its listening again, and its request is then answered")]
    public async Task ClientReachesRestartedNode()
    {
        var port = NodeProcess.FreePort();
        var clusterPort = NodeProcess.FreePort();
        var data = Path.Combine(Path.GetTempPath(), "conduit-node-tests", Guid.NewGuid().ToString("N"));
        string[] args = ["--port", port.ToString(), "--cluster-port", clusterPort.ToString(), "--data", data];
        await using var client = new ConduitClient(new ConduitClientOptions { Servers = [$"127.0.0.1:{port}"], RequestTimeout = TimeSpan.FromSeconds(1) });

        await using (var first = NodeProcess.Start(args))
        {
            await first.WaitForOutput("Conduit node listening on");
            // The first contact (a fresh client, a fresh node) may take longer than the 1 s request timeout.
            await Eventually.Holds(() => client.EnqueueAsync("reconnect", "before"), timeoutMs: 30_000, intervalMs: 100);
            await first.KillHard();
        }
        // While the node is gone the client keeps asking (and failing), as a producer would; then the node returns.
        await Assert.ThrowsAnyAsync<ConduitTimeoutException>(() => client.EnqueueAsync("reconnect", "while down"));
        await Assert.ThrowsAnyAsync<ConduitTimeoutException>(() => client.EnqueueAsync("reconnect", "while down"));

        await using var second = NodeProcess.Start(args);
        await second.WaitForOutput("Conduit node listening on");
        var listening = Stopwatch.StartNew();
        var connected = Task.Run(async () =>
        {
            while (!client.IsConnected && listening.ElapsedMilliseconds < 30_000) await Task.Delay(10);
            return listening.ElapsedMilliseconds;
        });
        var refused = 0;
        while (true)
        {
            try
            {
                await client.EnqueueAsync("reconnect", "after");
                break;
            }
            catch (ConduitTimeoutException) when (listening.ElapsedMilliseconds < 30_000)
            {
                refused++;
            }
        }
        output.WriteLine($"the client reached the restarted node {listening.ElapsedMilliseconds} ms after it listened (attached after " +
                         $"{await connected} ms; {refused} requests timed out first while its partition recovered)");
        var attachedAfter = await connected;
        Assert.True(client.IsConnected && attachedAfter <= ReconnectTargetMs,
            $"the client attached to the restarted node {attachedAfter} ms after it listened (target {ReconnectTargetMs} ms)");
        var polled = await client.PollAsync("reconnect", 10, TimeSpan.FromSeconds(5));
        Assert.Contains(polled, t => t.PayloadText == "before");
    }
}
