using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Conduit.Protocol;
using Conduit.Server.Frontend;
using Conduit.Testing;
using Xunit;

namespace Conduit.Node.Tests;

/// <summary>The built node as a process, sent what only an attacker sends, straight to its shard region.</summary>
public sealed class PoisonTests
{
    private static readonly string[] BogusEntityIds = ["garbage", "default/q#99", "other/q#0", "default/Q#0", "", "default/mp#2", "default/q#-1"];

    [Fact(DisplayName = "envelopes, sharding envelopes and StartEntity naming no partition leave the node serving every shard, stopping on Ctrl-C and restarting on its data")]
    public async Task BogusShardEnvelopes()
    {
        var port = NodeProcess.FreePort();
        var data = Path.Combine(Path.GetTempPath(), "conduit-node-tests", Guid.NewGuid().ToString("N"));
        string[] args = ["--port", port.ToString(), "--data", data, "--queue-partitions", "mp=2"];
        var neighbours = NeighbourQueues();

        await using (var node = NodeProcess.Start(args))
        {
            await node.WaitForOutput($"Conduit node listening on akka.tcp://conduit@127.0.0.1:{port}");
            await using var attacker = Attacker.Against(port);
            await attacker.Ask<Enqueued>(attacker.Frontend, new Enqueue("q", new TaskSpec([1])));

            for (var round = 0; round < 50; round++)
            {
                foreach (var id in BogusEntityIds) attacker.ShardRegion.Tell(new PartitionEnvelope(id, new GetQueueStats("q")));
            }
            foreach (var id in BogusEntityIds)
            {
                attacker.ShardRegion.Tell(new ShardingEnvelope(id, new GetQueueStats("q")));
                attacker.ShardRegion.Tell(new ShardRegion.StartEntity(id));
            }
            Assert.Equal(ErrorCode.TaskNotFound, await attacker.Refusal(attacker.ShardRegion, new ShardingEnvelope("garbage", new GetQueueStats("q"))));

            await ServesEveryQueue(attacker, neighbours, expectReady: 0);
            var output = node.Output;
            Assert.True(Lines(output, "Exception").Length == 0, $"exceptions in the node's output:\n{output}");
            Assert.True(Lines(output, "Dropped partition envelopes").Length <= 1, $"drops logged more than once a minute:\n{output}");
            Assert.True(Lines(output, "garbage").Length <= 2, $"the bogus ids are logged over and over:\n{output}");

            var watch = Stopwatch.StartNew();
            Assert.Equal(0, await node.InterruptAndWait(30_000));
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"Ctrl-C took {watch.Elapsed}");
        }

        await using (var node = NodeProcess.Start(args))
        {
            await node.WaitForOutput($"Conduit node listening on akka.tcp://conduit@127.0.0.1:{port}");
            await using var attacker = Attacker.Against(port);
            await ServesEveryQueue(attacker, neighbours, expectReady: 1);
            Assert.Equal(1, (await attacker.Ask<QueueStats>(attacker.Frontend, new GetQueueStats("q"))).Ready);
            Assert.True(Lines(node.Output, "Exception").Length == 0, $"exceptions in the restarted node's output:\n{node.Output}");
            Assert.Equal(0, await node.InterruptAndWait(30_000));
        }
    }

    /// <summary>For each bogus id, a queue whose partition lives in the same shard, and a few more queues besides.</summary>
    private static string[] NeighbourQueues()
    {
        IMessageExtractor extractor = new PartitionMessageExtractor(new QueueTopology(1), 100);
        var queues = new List<string> { "mp", "other", "a", "b", "c" };
        foreach (var bogus in BogusEntityIds)
        {
            var shard = extractor.ShardId(bogus, null);
            queues.Add(Enumerable.Range(0, 100_000).Select(i => $"n{i}").First(q => extractor.ShardId(PartitionId.Of(q, 0).EntityId, null) == shard));
        }
        return queues.Distinct().ToArray();
    }

    /// <summary>Each queue takes a task and counts it: every shard the attack touched still runs its partitions.</summary>
    private static async Task ServesEveryQueue(Attacker client, string[] queues, int expectReady)
    {
        foreach (var queue in queues)
        {
            Assert.Equal(expectReady, (await client.Ask<QueueStats>(client.Frontend, new GetQueueStats(queue))).Ready);
            await client.Ask<Enqueued>(client.Frontend, new Enqueue(queue, new TaskSpec([2])));
            Assert.Equal(expectReady + 1, (await client.Ask<QueueStats>(client.Frontend, new GetQueueStats(queue))).Ready);
        }
    }

    private static string[] Lines(string output, string text) =>
        output.Split('\n').Where(l => l.Contains(text, StringComparison.Ordinal)).ToArray();
}
