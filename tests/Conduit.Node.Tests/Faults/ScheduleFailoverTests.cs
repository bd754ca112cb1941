using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using Conduit.Client;
using Conduit.Protocol;
using Conduit.Server.Hosting;
using Xunit;
using Xunit.Abstractions;

namespace Conduit.Node.Tests.Faults;

/// <summary>
/// Issue #13: a recurring schedule across a kill -9 of the node that runs it, on three node processes and one
/// PostgreSQL. The schedule's entity moves to a survivor (remember-entities) and goes on: no due time runs twice, the
/// due times missed during the failover are run once (<see cref="MissedRunPolicy.RunOnce"/>), and every due time is
/// either run or counted as skipped.
/// </summary>
[Collection(ProcessFaultCollection.Name)]
public sealed partial class ScheduleFailoverTests(ITestOutputHelper output)
{
    private const int Nodes = 3;
    private const int PartitionsPerQueue = 2;
    private const long IntervalMs = 2_000;
    private const long MissedAfterMs = 1_000;
    private const string Queue = "ticks";
    private const string Name = "ticker";
    private const string EntityId = "default/" + Name;
    /// <summary>Short, as <see cref="QueueLoad"/>'s: a poll lost with the killed node is given up soon and the next one finds the new owner.</summary>
    private static readonly TimeSpan RequestTimeout = QueueLoad.RequestTimeout;
    private static readonly long RequestTimeoutMs = (long)RequestTimeout.TotalMilliseconds;
    /// <summary>How long the collector's poll waits for a task.</summary>
    private const long PollWaitMs = 1_000;
    /// <summary>The queue's partitions start on a new cluster's cold database; a first recovery may wait this long for it.</summary>
    private static readonly long ColdStartMs = (long)FailoverTimings.RecoveryEventTimeout.TotalMilliseconds;
    /// <summary>
    /// Nothing a survivor enqueues for the schedule can come this soon after the kill: the killed node is not even
    /// suspected before its heartbeats have stopped this long. An enqueue answered before it is the killed node's.
    /// </summary>
    private static readonly long NoSurvivorBeforeMs = (long)FailoverTimings.AcceptableHeartbeatPause.TotalMilliseconds;

    /// <summary>
    /// From a run's enqueue (the partition's timestamp) to the schedule's next decision: the answer's way back and one journal
    /// write. Well under an interval, so a due time skipped out of turn cannot hide in it.
    /// </summary>
    private const long RecordSlackMs = 1_000;

    private sealed record Run(string TaskId, long Due, long EnqueuedAt);

    [Fact(DisplayName = "kill -9 of the node running a schedule: it goes on on a survivor within the failover target, no due time twice, the missed ones run once (RunOnce), every due time run or skipped")]
    public async Task KillScheduleOwner()
    {
        await using var cluster = await ProcessCluster.Start(Nodes, PartitionsPerQueue);
        await using var client = cluster.Client(RequestTimeout);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        // A start in the near future, on a whole second: the due times are start + k·interval, the first one is start.
        var start = (now / 1_000 + 2) * 1_000;
        var spec = new ScheduleSpec(Queue, new TaskSpec([7]), IntervalMs: IntervalMs, StartAtUnixMs: start,
            MissedRuns: MissedRunPolicy.RunOnce, MissedAfterMs: MissedAfterMs);
        // Saved once, when the schedules' region answers: a save retried after a lost answer would move the floor.
        await Conduit.Testing.Eventually.Holds(() => Assert.ThrowsAsync<ScheduleNotFoundException>(() => client.GetScheduleAsync(Name)),
            timeoutMs: (int)ColdStartMs, intervalMs: 200);
        var saved = await client.PutScheduleAsync(Name, spec);
        // The schedule's first due time: the first after its save (a first save on a new cluster may come after the start).
        var firstDue = saved.CreatedAtUnixMs < start ? start : start + ((saved.CreatedAtUnixMs - start) / IntervalMs + 1) * IntervalMs;

        var runs = new ConcurrentDictionary<string, Run>();
        using var stopCollecting = new CancellationTokenSource();
        var collector = Task.Run(() => Collect(client, runs, stopCollecting.Token));
        try
        {
            // Two regular runs on the first owner.
            await Until(() => runs.Count >= 2, start - now + 2 * IntervalMs + ColdStartMs, "two runs before the kill");

            // The victim: the one node that runs the schedule's entity, as the nodes themselves say.
            var runners = await Runners(cluster, cluster.Alive);
            Assert.True(runners.Count == 1, $"the schedule runs on exactly one node before the kill: {string.Join(", ", runners.Select(r => r.Index))}");
            var victim = runners[0];

            await cluster.Kill(victim);
            var killedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            output.WriteLine($"killed node {victim.Index}, which ran {EntityId}, at {killedAt} (start {start})");

            // It comes back on a survivor, and the due times go on: three runs after the kill, within the failover target
            // (docs/ownership-and-failover.md: a killed node's entities serve on the survivors within 15 s) plus the
            // time those three take to fall due and be polled.
            await Until(() => runs.Values.Count(r => r.EnqueuedAt >= killedAt + NoSurvivorBeforeMs) >= 3,
                killedAt + ProcessFaultTests.FailoverTargetMs + 3 * IntervalMs + 2 * RequestTimeoutMs - Now(),
                "three runs after the kill");
            var newRunners = await Runners(cluster, cluster.Alive);
            Assert.True(newRunners.Count == 1, $"the schedule runs on exactly one survivor after the kill: {string.Join(", ", newRunners.Select(r => r.Index))}");

            // Every due time up to the schedule's last run is polled (the collector may be behind by a poll, or by one lost
            // with its request and the next).
            var info = await client.GetScheduleAsync(Name);
            await Until(() => runs.Values.Count(r => r.Due <= info.LastDueUnixMs) >= info.Runs, 2 * (PollWaitMs + RequestTimeoutMs),
                $"the {info.Runs} runs up to {info.LastDueUnixMs}");
            await stopCollecting.CancelAsync();
            await collector;

            var all = runs.Values.OrderBy(r => r.Due).ThenBy(r => r.EnqueuedAt).ToList();
            var recovery = Recovery(cluster, killedAt);
            // A run the killed node had started (ScheduleRunStarted) but not recorded is finished by the survivor first, with
            // its own due time: it is neither before the kill nor one of the survivor's own decisions.
            var inFlight = recovery?.InFlightDue ?? 0;
            var before = all.Where(r => r.EnqueuedAt < killedAt + NoSurvivorBeforeMs && r.Due != inFlight).ToList();
            var after = all.Where(r => r.EnqueuedAt >= killedAt + NoSurvivorBeforeMs && r.Due != inFlight).ToList();
            output.WriteLine($"runs (due +ms from start, enqueued +ms from the kill): {string.Join(", ", all.Select(r => $"{r.Due - start}@{r.EnqueuedAt - killedAt:+0;-0}"))}");
            output.WriteLine($"schedule: first due +{firstDue - start}, {info.Runs} runs, {info.Skipped} skipped, last due +{info.LastDueUnixMs - start}; now on node {newRunners[0].Index}; " +
                             $"survivor's recovery: {recovery?.Line ?? "not logged"}");
            output.WriteLine($"node logs: {cluster.SaveLogs("schedule-kill")}");

            // No due time twice, each a real due time.
            var duplicates = all.GroupBy(r => r.Due).Where(g => g.Count() > 1).ToList();
            Assert.True(duplicates.Count == 0, "due times run twice: " + string.Join("; ", duplicates.Select(g => $"{g.Key}: {string.Join(", ", g.Select(r => r.TaskId))}")));
            Assert.All(all, r => Assert.True((r.Due - start) % IntervalMs == 0 && r.Due >= firstDue, $"{r.Due} is not a due time of the schedule (first {firstDue})"));

            // The failover: the schedule went on (on the one survivor that runs it now) within the target.
            var lastBefore = before.Max(r => r.Due);
            var first = after[0];
            var resumedAfterMs = first.EnqueuedAt - killedAt;
            output.WriteLine($"first run after the kill: due +{first.Due - start} ms, enqueued {resumedAfterMs} ms after the kill and {first.EnqueuedAt - first.Due} ms after its due time; last before: due +{lastBefore - start} ms");
            Assert.True(resumedAfterMs <= ProcessFaultTests.FailoverTargetMs,
                $"the first run after the kill was enqueued {resumedAfterMs} ms after it (target {ProcessFaultTests.FailoverTargetMs} ms)\n{cluster.Output()}");

            // RunOnce: the due times missed while no node ran the schedule got one run, for the latest of them, not one
            // each; the others are counted as skipped. Then the regular due times, one interval apart.
            // A run in flight at the kill was run too (the survivor finished it): it is not one of the missed.
            var missed = (first.Due - Math.Max(lastBefore, inFlight)) / IntervalMs - 1;
            Assert.True(missed >= 1, $"the failover took no due time: the last run before the kill was due at +{lastBefore - start}, the first after at +{first.Due - start}");
            Assert.True(recovery is not null, $"no survivor logged the schedule's recovery\n{cluster.Output()}");
            Assert.True(first.Due > recovery!.DecidedAt - IntervalMs,
                $"the first run after the kill (due {first.Due}) is not the latest due time at the survivor's decision ({recovery.DecidedAt}): an earlier missed due time was run");
            if (!recovery.Retried)
                Assert.True(first.Due <= recovery.DecidedAt,
                    $"the first run after the kill is due at {first.Due}, after the survivor's decision at {recovery.DecidedAt}: the missed due times were skipped, not run once");
            // A run is decided once the previous one is enqueued and recorded, and runs the latest due time by then. So two
            // runs are more than an interval apart only when the earlier was enqueued after the later one's due time (as when a
            // catch-up run waits for the queue's partition to fail over too): the due times between were covered by the later
            // run. A due time skipped although the previous run was enqueued in time fails this by at least an interval.
            for (var i = 1; i < after.Count; i++)
                Assert.True(after[i].Due - after[i - 1].Due == IntervalMs || after[i].Due <= after[i - 1].EnqueuedAt + RecordSlackMs,
                    $"after the failover the runs are not one interval apart, and the earlier was enqueued in time: " +
                    string.Join(", ", after.Select(r => $"{r.Due - start}@{r.EnqueuedAt - start}")));

            // Every due time from the first to the last run's was run or counted as skipped, once, and every run is counted
            // as a run: a run the killed node started but had not recorded was finished (recorded) by the survivor, and
            // was the only one it had not recorded (runs go one at a time).
            var unrecorded = all.Where(r => r.Due > recovery.LastDueAtRecovery && r.EnqueuedAt < killedAt).ToList();
            output.WriteLine($"run in flight at the survivor's recovery: due {(inFlight == 0 ? "none" : $"+{inFlight - start}")}; enqueued by the killed node and not recorded: " +
                             string.Join(", ", unrecorded.Select(r => $"due +{r.Due - start}, enqueued {r.EnqueuedAt - killedAt} ms from the kill")));
            Assert.All(unrecorded, r => Assert.Equal(inFlight, r.Due));
            var dueTimes = (info.LastDueUnixMs - firstDue) / IntervalMs + 1;
            Assert.Equal(dueTimes, info.Runs + info.Skipped);
            Assert.Equal(info.Runs, all.Count(r => r.Due <= info.LastDueUnixMs));
            Assert.True(info.Skipped >= missed, $"{missed} due times missed in the failover, {info.Skipped} counted as skipped");
        }
        finally
        {
            await stopCollecting.CancelAsync();
            await collector;
        }
    }

    /// <summary>A worker: polls the queue, records each task's due time (by task id: a redelivery is the same run), completes it.</summary>
    private static async Task Collect(ConduitClient client, ConcurrentDictionary<string, Run> runs, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                foreach (var task in await client.PollAsync(Queue, 10, TimeSpan.FromMilliseconds(PollWaitMs), QueueLoad.Lease))
                {
                    runs.TryAdd(task.Id, new Run(task.Id, long.Parse(task.Headers[ScheduleSpec.DueHeader], CultureInfo.InvariantCulture),
                        task.EnqueuedAt.ToUnixTimeMilliseconds()));
                    try { await client.CompleteAsync(task.LeaseToken); }
                    catch (Exception e) when (e is UnavailableException or OverloadedException or ConduitTimeoutException or LeaseExpiredException or UnknownLeaseException) { }
                }
            }
            catch (Exception e) when (e is UnavailableException or OverloadedException or ConduitTimeoutException)
            {
                await Task.Delay(100, CancellationToken.None);
            }
        }
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static async Task<LocalSchedules> LocalSchedules(ProcessCluster cluster, ProcessCluster.Member member)
    {
        await using var client = ConduitClient.Connect(member.Server);
        return await client.AskAsync<LocalSchedules>(ConduitClient.ManagementPath, new GetLocalSchedules(), TimeSpan.FromSeconds(10));
    }

    /// <summary>The members that say they run the schedule's entity.</summary>
    private static async Task<List<ProcessCluster.Member>> Runners(ProcessCluster cluster, IEnumerable<ProcessCluster.Member> members)
    {
        var runners = new List<ProcessCluster.Member>();
        foreach (var m in members)
            if ((await LocalSchedules(cluster, m)).EntityIds.Contains(EntityId)) runners.Add(m);
        return runners;
    }

    private sealed record RecoveryLog(string Line, long DecidedAt, long LastDueAtRecovery, bool Retried, long InFlightDue);

    /// <summary>
    /// The schedule's first recovery on a survivor after the kill (ScheduleEntity logs it with when it decided what was
    /// due), and whether a survivor then had to try a run again (a later decision).
    /// </summary>
    private static RecoveryLog? Recovery(ProcessCluster cluster, long killedAt)
    {
        var lines = cluster.Alive.SelectMany(m => m.Process.Output.Split('\n')).ToList();
        var recovered = lines.Select(l => (Line: l.Trim(), Match: RecoveredLine().Match(l)))
            .Where(l => l.Match.Success && long.Parse(l.Match.Groups[1].Value, CultureInfo.InvariantCulture) > killedAt)
            .MinBy(l => long.Parse(l.Match.Groups[1].Value, CultureInfo.InvariantCulture));
        if (recovered.Line is null) return null;
        var retried = lines.Any(l => l.Contains($"Schedule schedule-{EntityId}: a run could not be enqueued", StringComparison.Ordinal));
        return new RecoveryLog(recovered.Line, long.Parse(recovered.Match.Groups[1].Value, CultureInfo.InvariantCulture),
            long.Parse(recovered.Match.Groups[2].Value, CultureInfo.InvariantCulture), retried,
            long.Parse(recovered.Match.Groups[3].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"Schedule schedule-default/ticker recovered at event \d+ and decided at (\d+): last run due (\d+), \d+ runs, \d+ skipped, run in flight due (\d+)")]
    private static partial Regex RecoveredLine();

    private static async Task Until(Func<bool> condition, long timeoutMs, string what)
    {
        var until = Environment.TickCount64 + timeoutMs;
        while (!condition())
        {
            Assert.True(Environment.TickCount64 <= until, $"no {what} within {timeoutMs} ms");
            await Task.Delay(100);
        }
    }
}
