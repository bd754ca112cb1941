using Conduit.Protocol;
using Conduit.Server.Matching;
using CsCheck;
using Xunit;
using Xunit.Abstractions;

namespace Conduit.Server.Tests.Matching;

/// <summary>
/// Random interleavings of what clients do (enqueue with priorities, delays and keys; poll; complete; fail; cancel)
/// with what the journal does (late durability notices, late or failed reads, late or failed snapshots and deletes,
/// failed writes, crashes and recoveries) and time passing, checked against <see cref="PartitionModel"/> after every step.
/// Fixed seeds, so CI runs the same cases every time; a failure is shrunk and the shortest sequence found is printed.
/// </summary>
public sealed class PartitionProperties(ITestOutputHelper output)
{
    /// <summary>Small everything, so a few dozen steps reach paging, snapshots, relocation and retries.</summary>
    internal static readonly PartitionOptions Options = new()
    {
        ReadyWindow = 4, ReadPageEvents = 2, SnapshotEvery = 8, MaxWriteBatch = 4, LeaseTimeoutMs = 1_000,
        RetryInitialMs = 100, RetryMaxMs = 400, DefaultMaxAttempts = 3, CompactAtRestAfterMs = 500,
    };

    private const int Seeds = 200;

    internal abstract record Op;
    internal sealed record Enq(int Priority, long DelayMs, int Key) : Op;
    /// <summary>A burst of <paramref name="Count"/> plain enqueues, one request each: enough for a backlog beyond the window.</summary>
    internal sealed record Burst(int Count, int Priority) : Op;
    /// <summary>One enqueue request with <paramref name="Count"/> tasks: a backlog in one event, or many tasks due at once.</summary>
    internal sealed record Batch(int Count, int Priority, bool Delayed) : Op;
    internal sealed record PollOp(int Max, bool Wait) : Op;
    internal sealed record CompleteOp(int Pick) : Op;
    internal sealed record FailOp(int Pick, bool Retryable) : Op;
    internal sealed record CancelOp(int Pick) : Op;
    /// <summary>A frontend gives a delivery back undelivered (a poll answered twice, or too late), as <c>PollRouter</c> does.</summary>
    internal sealed record ReleaseOp(int Pick) : Op;
    /// <summary>A release asked again (the router retries when the answer is late): the task may be out again by then.</summary>
    internal sealed record ReleaseAgainOp(int Pick) : Op;
    internal sealed record Time(long Ms) : Op;
    internal sealed record FlushWrites : Op;
    internal sealed record HoldNotices(bool Hold) : Op;
    internal sealed record NoticeOne : Op;
    internal sealed record HoldReads(bool Hold) : Op;
    internal sealed record ReadOne(bool Fail) : Op;
    internal sealed record Snapshots(bool Hold, bool FailSave, bool FailDelete) : Op;
    internal sealed record SaveSnapshots : Op;
    internal sealed record Housekeeping : Op;
    internal sealed record CrashOp : Op;
    internal sealed record StaleReads : Op;
    internal sealed record FailWrite(bool WrittenAnyway) : Op;
    internal sealed record Probe : Op;

    private static readonly Gen<Op> OpGen = Gen.Frequency(
        (12, Gen.Select(Gen.Int[0, 3], Gen.OneOf(0L, 0L, 0L, 200L, 1_500L), Gen.Int[-3, 2], (p, d, k) => (Op)new Enq(p, d, k))),
        (4, Gen.Select(Gen.Int[3, 9], Gen.Int[0, 3], (n, p) => (Op)new Burst(n, p))),
        (1, Gen.Select(Gen.Int[1, 100], Gen.Int[0, 3], Gen.Bool, (n, p, d) => (Op)new Batch(n, p, d))),
        (8, Gen.Select(Gen.Int[1, 3], Gen.Bool, (m, w) => (Op)new PollOp(m, w))),
        (6, Gen.Int[0, 7].Select(i => (Op)new CompleteOp(i))),
        (3, Gen.Select(Gen.Int[0, 7], Gen.Bool, (i, r) => (Op)new FailOp(i, r))),
        (2, Gen.Int[0, 15].Select(i => (Op)new CancelOp(i))),
        (3, Gen.Int[0, 7].Select(i => (Op)new ReleaseOp(i))),
        (2, Gen.Int[0, 7].Select(i => (Op)new ReleaseAgainOp(i))),
        (4, Gen.OneOf(50L, 300L, 1_200L).Select(ms => (Op)new Time(ms))),
        (6, Gen.Const((Op)new FlushWrites())),
        (2, Gen.Bool.Select(b => (Op)new HoldNotices(b))),
        (3, Gen.Const((Op)new NoticeOne())),
        (3, Gen.Bool.Select(b => (Op)new HoldReads(b))),
        (3, Gen.Int[0, 3].Select(i => (Op)new ReadOne(i == 0))),
        (1, Gen.Select(Gen.Bool, Gen.Int[0, 5], (hold, f) => (Op)new Snapshots(hold, f == 0, f == 1))),
        (1, Gen.Const((Op)new SaveSnapshots())),
        (1, Gen.Const((Op)new Housekeeping())),
        (2, Gen.Const((Op)new CrashOp())),
        (2, Gen.Const((Op)new StaleReads())),
        (1, Gen.Bool.Select(b => (Op)new FailWrite(b))),
        (2, Gen.Const((Op)new Probe())));

    private static readonly Gen<Op[]> Sequences = OpGen.Array[1, 80];

    [Fact(DisplayName = "random interleavings of requests, journal timing and faults keep every acknowledged task delivered or settled as its history says, nothing ready stuck, priority order, and the journal and memory within their bounds")]
    public void Interleavings()
    {
        for (var i = 0; i < Seeds; i++)
        {
            var seed = new PCG(1, (ulong)i * 7_919 + 1).ToString();
            try
            {
                Sequences.Sample(Run, seed: seed, iter: 1, threads: 1, print: Print);
            }
            catch (Exception first)
            {
                output.WriteLine($"seed {seed} failed: {Cause(first)}\n{first.Message}\nshrinking ...");
                // Look for a shorter failing sequence from there (random, so only for the report).
                try { Sequences.Sample(Run, seed: seed, iter: 20_000, time: 30, threads: 1, print: Print); }
                catch (Exception shrunk)
                {
                    throw new Xunit.Sdk.XunitException(
                        $"property failed (seed {seed}): {Cause(first)}\nshortest failing sequence found ({Cause(shrunk)}):\n{shrunk.Message}");
                }
                throw;
            }
        }
    }

    private static string Cause(Exception e) => (e.InnerException ?? e) is var inner ? $"{inner.GetType().Name}: {inner.Message}" : "";

    private static string Print(Op[] ops) => string.Join("\n", ops.Select((op, i) => $"{i,3}: {op}"));

    internal static void Run(Op[] ops)
    {
        var h = new EngineHarness(Options) { AutoFlush = false };
        var m = new PartitionModel(h);
        var holdReads = false;
        foreach (var op in ops)
        {
            Step(h, m, op, ref holdReads);
            h.AutoRead = !holdReads;
            m.Observe();
            CheckBounds(h, m);
        }
        Drain(h, m);
    }

    private static void Step(EngineHarness h, PartitionModel m, Op op, ref bool holdReads)
    {
        switch (op)
        {
            case Enq e: m.Enqueue(e.Priority, e.DelayMs, e.Key < 0 ? null : $"k{e.Key}"); break;
            case Burst b:
                for (var i = 0; i < b.Count; i++) m.Enqueue(b.Priority, 0, null);
                break;
            case Batch b: m.EnqueueBatch(b.Count, b.Priority, b.Delayed ? 200 : 0); break;
            case PollOp p: m.Poll(p.Max, p.Wait ? 1_000 : 0); break;
            case CompleteOp c: m.Complete(c.Pick); break;
            case FailOp f: m.Fail(f.Pick, f.Retryable); break;
            case CancelOp c: m.Cancel(c.Pick); break;
            case ReleaseOp r: m.Release(r.Pick); break;
            case ReleaseAgainOp r: m.ReleaseAgain(r.Pick); break;
            case Time t: h.Advance(t.Ms); break;
            case FlushWrites: h.Flush(); h.Settle(); break;
            case HoldNotices n:
                h.HoldNotices = n.Hold;
                if (!n.Hold) h.ReleaseNotices();
                break;
            case NoticeOne: h.ReleaseOneNotice(); h.Settle(); break;
            case HoldReads r: holdReads = r.Hold; h.AutoRead = !r.Hold; h.Settle(); break;
            case ReadOne r:
                if (r.Fail) h.FailOneRead();
                else if (h.PendingReads.Count > 0) h.ServeOneRead();
                h.Settle();
                break;
            case Snapshots s:
                h.HoldSnapshots = s.Hold;
                h.FailSnapshots = s.FailSave;
                h.FailDeletes = s.FailDelete;
                break;
            case SaveSnapshots: h.CompleteSnapshots(); h.Settle(); break;
            case Housekeeping: h.Engine.OnHousekeeping(); h.Settle(); break;
            case CrashOp: h.Crash(); h.Settle(); break;
            case StaleReads: h.AnswerStaleReads(); h.Settle(); break;
            case FailWrite f: h.FailNextWrite(f.WrittenAnyway); break;
            case Probe:
                h.Quiesce();
                h.AutoFlush = false;
                m.Observe();
                ProbeReady(h, m);
                break;
        }
    }

    /// <summary>With nothing in flight, a poll gets a task whenever one is ready (by the model, and by the partition's own count).</summary>
    private static void ProbeReady(EngineHarness h, PartitionModel m)
    {
        var mustBeReady = m.MustBeDeliverable();
        var counted = h.Engine.Stats().Ready;
        var before = m.Tasks.Sum(t => t.Deliveries);
        m.Poll(1, 0);
        h.Quiesce();
        h.AutoFlush = false;
        m.Observe();
        var got = m.Tasks.Sum(t => t.Deliveries) > before;
        m.Check(mustBeReady.Count == 0 || got,
            $"nothing in flight, a poll got nothing although {string.Join(", ", mustBeReady.Select(t => t.Name))} must be ready");
        m.Check(counted == 0 || got, $"nothing in flight, a poll got nothing although the partition counts {counted} ready");
    }

    /// <summary>What must hold in memory after every step (docs/backlog-paging.md).</summary>
    private static void CheckBounds(EngineHarness h, PartitionModel m)
    {
        // A page-in may overshoot the window by a page (64 tasks), once per priority level it jumps to (docs/backlog-paging.md).
        var windowBound = Options.ReadyWindow + 64 * DurablePartitionState.PriorityLevels;
        m.Check(h.Engine.WindowCount <= windowBound,
            $"{h.Engine.WindowCount} tasks in the window, more than {Options.ReadyWindow} and a page per priority ({windowBound})");
        m.Check(h.Engine.Outstanding >= 0, "negative writes outstanding");
        m.Check(h.Engine.Durable.IdempotencyKeys.Count <= m.Tasks.Count(t => t.Key is not null), "more idempotency keys than were ever sent");
    }

    /// <summary>
    /// The end: faults off, everything written and told, time passes and workers complete whatever they get until
    /// nothing comes. Every acknowledged task is then completed (delivered), cancelled or dead, as its history says;
    /// nothing is ready; and after more traffic the live journal is within its bound.
    /// </summary>
    private static void Drain(EngineHarness h, PartitionModel m)
    {
        h.ClearFaults();
        h.Quiesce();
        h.AnswerStaleReads();
        h.Quiesce();
        m.Observe();
        for (int round = 0, idle = 0; idle < 3; round++)
        {
            m.Check(round < 200, "draining did not end");
            foreach (var (task, lease) in m.Leases.ToList())
            {
                m.Leases.Remove((task, lease));
                var from = new object();
                h.Engine.Handle(from, new Complete(lease.LeaseToken));
                h.Quiesce();
                if (h.RepliesTo(from).LastOrDefault() is Completed) task.Completed = true;
            }
            var before = m.Tasks.Sum(t => t.Deliveries);
            h.Advance(Options.LeaseTimeoutMs + Options.RetryMaxMs + 1_600);
            h.Quiesce();
            m.Poll(100, 0);
            h.Quiesce();
            m.Observe();
            idle = m.Tasks.Sum(t => t.Deliveries) == before && m.Leases.Count == 0 ? idle + 1 : 0;
        }
        foreach (var t in m.Tasks.Where(t => (t.Acked || t.Id is not null) && !t.Duplicate))
        {
            var info = h.Call(new GetTask(t.Id!));
            var status = info is TaskInfo ti ? ti.Status : (TaskStatus?)null;
            if (t.Completed) m.Check(status == TaskStatus.Completed, $"{t.Name} was acknowledged completed, is {status}");
            else if (t.Cancelled) m.Check(status == TaskStatus.Cancelled, $"{t.Name} was acknowledged cancelled, is {status}");
            else if (t.Dead)
                m.Check(status == TaskStatus.DeadLettered || (t.CancelAsked && status == TaskStatus.Cancelled), $"{t.Name} was acknowledged dead-lettered, is {status}");
            else if (t.Acked)
                m.Check(status is TaskStatus.Completed or TaskStatus.Cancelled or TaskStatus.DeadLettered && (t.Deliveries > 0 || (t.CancelAsked && status == TaskStatus.Cancelled)),
                    $"{t.Name} was acknowledged, delivered {t.Deliveries} times, and is {status?.ToString() ?? info.ToString()} after draining");
        }
        var stats = h.Engine.Stats();
        m.Check(stats.Ready == 0 && stats.Delayed == 0 && stats.Running == 0, $"after draining: {stats}");
        CheckJournalBound(h, m);
    }

    /// <summary>More traffic with no faults: the live journal is then within the stated bound (docs/backlog-paging.md).</summary>
    private static void CheckJournalBound(EngineHarness h, PartitionModel m)
    {
        h.AutoFlush = true;
        for (var i = 0; i < 4 * Options.SnapshotEvery; i++)
        {
            h.Enqueue($"filler{i}");
            foreach (var t in h.Poll()) h.Call(new Complete(t.LeaseToken));
        }
        h.Quiesce();
        var live = h.Journal.Count;
        var bound = JournalBound.Events(Options, h.Engine.Durable.Exceptions.Count);
        m.Check(live <= bound, $"{live} live events with {h.Engine.Durable.Exceptions.Count} long-lived tasks, above the bound of {bound}");
    }
}
