using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Conduit.Protocol;
using Conduit.Server.Frontend;
using Conduit.Testing;
using Xunit;

namespace Conduit.Node.Tests;

/// <summary>The built node as a process, sent what only an attacker sends, straight to its shard region on the cluster port.</summary>
public sealed class PoisonTests
{
    private static readonly string[] BogusEntityIds = ["garbage", "default/q#99", "Other/q#0", "default/Q#0", "", "default/mp#2", "default/q#-1"];

    [Fact(DisplayName = "envelopes, sharding envelopes and StartEntity naming no partition leave the node serving every shard, stopping on Ctrl-C and restarting on its data")]
    public Task BogusShardEnvelopes() => AttackThenRestart(BogusEntityIds, async attacker =>
    {
        for (var round = 0; round < 50; round++)
        {
            foreach (var id in BogusEntityIds) attacker.ShardRegion.Tell(new PartitionEnvelope(id, new GetQueueStats("q")));
        }
        foreach (var id in BogusEntityIds)
        {
            attacker.ShardRegion.Tell(new ShardingEnvelope(id, new GetQueueStats("q")));
            if (id.Length > 0) attacker.ShardRegion.Tell(new ShardRegion.StartEntity(id));
        }
        // Dropped without an answer; a real partition's request sent after them over the same connection is answered.
        await attacker.Ask<QueueStats>(attacker.ShardRegion, new PartitionEnvelope(PartitionId.Of("q", 0).EntityId, new GetQueueStats("q")));
    });

    [Fact(DisplayName = "a StartEntity with an empty entity id leaves its shard serving, stopping on Ctrl-C and restarting on its data")]
    public Task StartEntityWithEmptyId() => AttackThenRestart([""], async attacker =>
    {
        attacker.ShardRegion.Tell(new ShardRegion.StartEntity(""));
        // Dropped without an answer; a real partition's request sent after them over the same connection is answered.
        await attacker.Ask<QueueStats>(attacker.ShardRegion, new PartitionEnvelope(PartitionId.Of("q", 0).EntityId, new GetQueueStats("q")));
    });

    /// <summary>
    /// Starts the node, runs <paramref name="attack"/>, then checks that every queue (among them one in the shard of each
    /// of <paramref name="bogusIds"/>) still answers, the output shows no exception and no flood, Ctrl-C stops the node,
    /// and the node starts again on the same data and serves the same queues.
    /// </summary>
    private static async Task AttackThenRestart(string[] bogusIds, Func<Attacker, Task> attack)
    {
        var port = NodeProcess.FreePort();
        var clusterPort = NodeProcess.FreePort();
        var data = Path.Combine(Path.GetTempPath(), "conduit-node-tests", Guid.NewGuid().ToString("N"));
        // Plain TCP on loopback: the cluster port is reachable, and the shard region must hold up on its own.
        string[] args = ["--port", port.ToString(), "--cluster-port", clusterPort.ToString(), "--data", data, "--queue-partitions", "mp=2"];
        var queues = QueuesBeside(bogusIds);

        await using (var node = NodeProcess.Start(args))
        {
            await node.WaitForOutput($"Conduit node listening on akka.tcp://conduit@127.0.0.1:{port}");
            await using var attacker = Attacker.Against(port, clusterPort);
            await attacker.Ask<Enqueued>(attacker.Frontend, new Enqueue("q", new TaskSpec([1])));

            await attack(attacker);

            await ServesEveryQueue(node, attacker, queues, expectReady: 0);
            var output = node.Output;
            Assert.True(Lines(output, "Exception").Length == 0, $"exceptions in the node's output:\n{output}");
            Assert.True(Lines(output, "Dropped partition envelopes").Length <= 1, $"drops logged more than once a minute:\n{output}");
            Assert.True(Lines(output, "garbage").Length <= 12, $"the bogus ids are logged over and over:\n{output}");

            var watch = Stopwatch.StartNew();
            Assert.Equal(0, await node.InterruptAndWait(30_000));
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"Ctrl-C took {watch.Elapsed}");
        }

        await using (var node = NodeProcess.Start(args))
        {
            await node.WaitForOutput($"Conduit node listening on akka.tcp://conduit@127.0.0.1:{port}");
            await using var attacker = Attacker.Against(port, clusterPort);
            await ServesEveryQueue(node, attacker, queues, expectReady: 1);
            Assert.Equal(1, (await attacker.Ask<QueueStats>(attacker.Frontend, new GetQueueStats("q"))).Ready);
            Assert.True(Lines(node.Output, "Exception").Length == 0, $"exceptions in the restarted node's output:\n{node.Output}");
            Assert.Equal(0, await node.InterruptAndWait(30_000));
        }
    }

    /// <summary>A few queues, and for each bogus id a queue whose partition lives in the same shard.</summary>
    private static string[] QueuesBeside(string[] bogusIds)
    {
        var queues = new List<string> { "mp", "other", "a", "b", "c" };
        foreach (var bogus in bogusIds)
        {
            var shard = ShardOf(bogus);
            queues.Add(Enumerable.Range(0, 100_000).Select(i => $"n{i}").First(q => ShardOf(PartitionId.Of(q, 0).EntityId) == shard));
        }
        return queues.Distinct().ToArray();
    }

    /// <summary>The shard Akka's hashing gives an id (the node's extractor gives none to a bogus id: it drops it).</summary>
    private static string ShardOf(string entityId) => new PlainHash().ShardId(entityId, null);

    private sealed class PlainHash() : HashCodeMessageExtractor(100)
    {
        public override string? EntityId(object message) => null;
    }

    /// <summary>Each queue counts its tasks, takes one more and counts again: every shard the attack touched still runs its partitions.</summary>
    private static async Task ServesEveryQueue(NodeProcess node, Attacker client, string[] queues, int expectReady)
    {
        foreach (var queue in queues)
        {
            try
            {
                Assert.Equal(expectReady, (await client.Ask<QueueStats>(client.Frontend, new GetQueueStats(queue))).Ready);
                await client.Ask<Enqueued>(client.Frontend, new Enqueue(queue, new TaskSpec([2])));
                Assert.Equal(expectReady + 1, (await client.Ask<QueueStats>(client.Frontend, new GetQueueStats(queue))).Ready);
            }
            catch (AskTimeoutException e)
            {
                throw new TimeoutException(
                    $"queue {queue} (its partition is in shard {ShardOf(PartitionId.Of(queue, 0).EntityId)}) did not answer; the node's output:\n{node.Output}", e);
            }
        }
    }

    private static string[] Lines(string output, string text) =>
        output.Split('\n').Where(l => l.Contains(text, StringComparison.Ordinal)).ToArray();
}
