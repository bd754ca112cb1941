using Xunit;
using Xunit.Abstractions;

namespace Conduit.Node.Tests.Faults;

/// <summary>
/// The recovery targets of docs/ownership-and-failover.md, measured on real processes with the shipped settings: three
/// nodes on one PostgreSQL, continuous enqueue / poll / complete through <see cref="Conduit.Client.ConduitClient"/>, then a
/// fault. Each test prints what it measured (the figures the docs quote).
/// </summary>
[Collection(ProcessFaultCollection.Name)]
public sealed class ProcessFaultTests(ITestOutputHelper output)
{
    private const int Nodes = 3;
    private const int PartitionsPerQueue = 4;
    private static readonly string[] Queues = ["fault-a", "fault-b"];
    /// <summary>kill -9 of a task-service node: its partitions serve on the survivors within this of the kill.</summary>
    internal const long FailoverTargetMs = 15_000;
    /// <summary>PostgreSQL back: every partition serves again within this of its accepting connections.</summary>
    private const long StorageRecoveryTargetMs = 5_000;
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(60);

    [Fact(DisplayName = "kill -9 of a node under load: its partitions serve on the survivors within 15 s, every acknowledged task completes, duplicates only among tasks in flight there")]
    public async Task KillNodeUnderLoad()
    {
        await using var cluster = await ProcessCluster.Start(Nodes, PartitionsPerQueue);
        await using var load = QueueLoad.Start(cluster, Queues);
        var all = AllPartitions();
        await WarmUp(load, all);

        // The victim: the node that runs the most partitions of the queues under test (at least one, asserted).
        var hosted = new Dictionary<ProcessCluster.Member, IReadOnlySet<string>>();
        foreach (var m in cluster.Members) hosted[m] = (await cluster.LocalPartitions(m)).Where(all.Contains).ToHashSet();
        var victim = hosted.MaxBy(h => h.Value.Count).Key;
        var moved = hosted[victim];
        Assert.NotEmpty(moved);
        output.WriteLine($"partitions per node: {string.Join("; ", hosted.Select(h => $"node {h.Key.Index}: {string.Join(",", h.Value.Order())}"))}");

        var completedBefore = load.Completed.Keys.ToHashSet();
        var killedAt = load.Now;
        var killedAtUtc = DateTime.UtcNow;
        await cluster.Kill(victim);
        output.WriteLine($"killed node {victim.Index} at {killedAt} ms");

        var (answeredAt, backAt, failover, stall) = await RecoverThenDrain(load, cluster, moved, killedAt, killedAt - 5_000,
            FailoverTargetMs + 15_000, "a write after the kill on every moved partition");
        output.WriteLine($"failover: the killed node's {moved.Count} partitions answered again {failover} ms after the kill " +
                         $"({string.Join(", ", answeredAt.Select(b => $"{b.Key} +{b.Value - killedAt} ms"))}); " +
                         $"first write under load answered +{backAt.Values.Max(t => t ?? long.MaxValue) - killedAt} ms " +
                         $"({string.Join(", ", backAt.Select(b => $"{b.Key} +{b.Value - killedAt} ms"))})");
        output.WriteLine($"longest stall in completions (all queues): {stall.Gap} ms from {stall.From} ms");
        output.WriteLine("survivors' log after the kill: " + string.Join(", ", cluster.Timeline(killedAtUtc,
            "Marking node(s) as UNREACHABLE", "SBR is downing", "Leader is removing unreachable node", "recovered at event")
            .Select(t => $"'{t.Marker}' +{t.AfterMs?.ToString() ?? "never"} ms")));
        output.WriteLine(load.Summary());
        output.WriteLine($"node logs: {cluster.SaveLogs("kill")}");

        await AssertNothingLostNorWrong(load, cluster);
        // A duplicate is a task handed out by the killed node before the kill (to a poll sent before it), not completed
        // then, and handed out again.
        var duplicates = load.Duplicates();
        var unexplained = duplicates.Where(d =>
            !moved.Contains(QueueLoad.PartitionOf(d.Key)) || load.FirstPolledAt[d.Key] > killedAt || completedBefore.Contains(d.Key)).ToList();
        output.WriteLine($"duplicates: {duplicates.Count}, not explained by the kill: {unexplained.Count}");
        Assert.True(unexplained.Count == 0, "delivered twice without having been in flight on the killed node: " +
                                            string.Join(", ", unexplained.Take(20).Select(d => $"{d.Key} first at {d.Value} ms")));
        Assert.True(failover <= FailoverTargetMs, $"the killed node's partitions served again {failover} ms after the kill (target {FailoverTargetMs} ms)\n{cluster.Output()}");
    }

    [Theory(DisplayName = "PostgreSQL crashes (pg_ctl stop -m immediate) under load and comes back: every partition serves within 5 s of its return, nothing acknowledged is lost")]
    [InlineData(0)]
    [InlineData(10)]
    public async Task PostgresRestartUnderLoad(int downForSeconds)
    {
        await using var cluster = await ProcessCluster.Start(Nodes, PartitionsPerQueue);
        await using var load = QueueLoad.Start(cluster, Queues);
        var all = AllPartitions();
        await WarmUp(load, all);

        var completedBefore = load.Completed.Keys.ToHashSet();
        var downAt = load.Now;
        await cluster.Postgres.RestartImmediateAsync(TimeSpan.FromSeconds(downForSeconds));
        var upAt = load.Now;
        var upAtUtc = DateTime.UtcNow;
        output.WriteLine($"PostgreSQL stopped at {downAt} ms, accepting connections again at {upAt} ms ({upAt - downAt} ms down)");

        var (answeredAt, backAt, recovery, stall) = await RecoverThenDrain(load, cluster, all, upAt, downAt - 5_000,
            StorageRecoveryTargetMs + 30_000, "a write after the outage on every partition");
        output.WriteLine($"recovery: all {all.Count} partitions answered again {recovery} ms after PostgreSQL accepted connections " +
                         $"(slowest: {string.Join(", ", answeredAt.OrderByDescending(b => b.Value).Take(3).Select(b => $"{b.Key} +{b.Value - upAt} ms"))}); " +
                         $"first write under load answered +{backAt.Values.Max(t => t ?? long.MaxValue) - upAt} ms " +
                         $"(slowest: {string.Join(", ", backAt.OrderByDescending(b => b.Value).Take(3).Select(b => $"{b.Key} +{b.Value - upAt} ms"))})");
        output.WriteLine($"longest stall in completions: {stall.Gap} ms from {stall.From} ms (outage {upAt - downAt} ms)");
        output.WriteLine(load.Summary());
        output.WriteLine($"PostgreSQL accepted connections again at {upAtUtc:HH:mm:ss.fff} UTC; node logs: {cluster.SaveLogs($"postgres-{downForSeconds}s")}");

        await AssertNothingLostNorWrong(load, cluster);
        // A duplicate is a task handed out before its partition was back on storage and not completed before the crash.
        var duplicates = load.Duplicates();
        var unexplained = duplicates.Where(d =>
            completedBefore.Contains(d.Key) || d.Value > (backAt[QueueLoad.PartitionOf(d.Key)] ?? long.MaxValue)).ToList();
        output.WriteLine($"duplicates: {duplicates.Count}, not explained by the outage: {unexplained.Count}");
        Assert.True(unexplained.Count == 0, "delivered twice though handed out after its partition recovered: " +
                                            string.Join(", ", unexplained.Take(20).Select(d => $"{d.Key} first at {d.Value} ms")));
        Assert.True(recovery <= StorageRecoveryTargetMs,
            $"partitions served again {recovery} ms after PostgreSQL came back (target {StorageRecoveryTargetMs} ms)\n{cluster.Output()}");
    }

    private static HashSet<string> AllPartitions() =>
        Queues.SelectMany(q => Enumerable.Range(0, PartitionsPerQueue).Select(p => $"default/{q}#{p}")).ToHashSet();

    /// <summary>Load runs until every partition under test has taken writes and a few hundred tasks went through.</summary>
    private async Task WarmUp(QueueLoad load, IReadOnlySet<string> all)
    {
        await Eventually(() => all.IsSubsetOf(load.PartitionsWritten) && load.Completed.Count >= 300, 90_000, "warm-up (every partition written, 300 completed)");
        output.WriteLine($"warmed up at {load.Now} ms: {load.Summary()}");
    }

    private async Task AssertNothingLostNorWrong(QueueLoad load, ProcessCluster cluster)
    {
        Assert.True(load.WrongAnswers.IsEmpty, "wrong answers:\n" + string.Join("\n", load.WrongAnswers.Take(20)));
        var missing = await load.NotCompleted();
        Assert.True(missing.Count == 0, $"{missing.Count} acknowledged tasks never completed: {string.Join(", ", missing.Take(20))}\n{cluster.Output()}");
    }

    /// <summary>
    /// After a fault at <paramref name="faultAt"/>: each of <paramref name="partitions"/> is asked about one of its tasks
    /// until it answers (load goes on past the target meanwhile, so a partition that comes back late is seen late, not
    /// missed); answering a read is not enough (an idle partition answers from memory, and routing by gossiped load may
    /// send a partition work only seconds later), so each must also take a write under load. Then the load stops and
    /// drains. Returns when each partition answered and first took a write, the slowest answer after the fault, and the
    /// longest stall in completions from <paramref name="stallFrom"/>.
    /// </summary>
    private static async Task<(IReadOnlyDictionary<string, long?> AnsweredAt, Dictionary<string, long?> WrittenAt, long ServedAfterMs, (long Gap, long From) Stall)>
        RecoverThenDrain(QueueLoad load, ProcessCluster cluster, IReadOnlySet<string> partitions, long faultAt, long stallFrom, long answerTimeoutMs, string write)
    {
        var answeredAt = await load.FirstAnswers(partitions, TimeSpan.FromMilliseconds(answerTimeoutMs));
        await Eventually(() => partitions.All(p => load.FirstWrite(p, faultAt) is not null), 20_000, write, () =>
            $"not written since {faultAt} ms: {string.Join(", ", partitions.Where(p => load.FirstWrite(p, faultAt) is null).Order())}; " +
            $"answered: {string.Join(", ", answeredAt.OrderBy(a => a.Key).Select(a => $"{a.Key} at {a.Value?.ToString() ?? "never"} ms"))}; " +
            $"now {load.Now} ms; {load.Summary()}; node logs: {SavedLogs(cluster, "no-write")}\n{cluster.Output()}");
        var loadEnd = load.Now + 2_000;
        await WaitUntil(load, loadEnd);
        load.StopProducing();
        await load.Drain(DrainTimeout);
        var writtenAt = partitions.ToDictionary(p => p, p => load.FirstWrite(p, faultAt));
        return (answeredAt, writtenAt, answeredAt.Values.Max(t => t ?? long.MaxValue) - faultAt, load.LongestCompletionStall(stallFrom, loadEnd));
    }

    /// <summary>Where the nodes' logs were saved, or why they could not be: a failure message keeps its own cause.</summary>
    private static string SavedLogs(ProcessCluster cluster, string name)
    {
        try { return cluster.SaveLogs(name); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return $"not saved ({e.Message})"; }
    }

    private static async Task Eventually(Func<bool> condition, long timeoutMs, string what, Func<string>? details = null)
    {
        var until = Environment.TickCount64 + timeoutMs;
        while (!condition())
        {
            if (Environment.TickCount64 > until) Assert.Fail($"no {what} within {timeoutMs} ms" + (details is null ? "" : $"\n{details()}"));
            await Task.Delay(100);
        }
    }

    private static async Task WaitUntil(QueueLoad load, long at)
    {
        while (load.Now < at) await Task.Delay(50);
    }
}

/// <summary>Fault tests run one at a time: each runs a cluster of processes and PostgreSQL, and measures timing.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessFaultCollection
{
    public const string Name = "process faults";
}
