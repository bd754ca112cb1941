using Conduit.Protocol;
using Conduit.Server.Matching;
using Conduit.Server.Persistence;
using Xunit;
using static Conduit.Server.Tests.Matching.EngineHarness;

namespace Conduit.Server.Tests.Matching;

/// <summary>What a partition keeps in memory stays within the bounds docs/backlog-paging.md states, however the work arrives.</summary>
public sealed class MemoryBoundTests
{
    [Fact(DisplayName = "many delayed tasks falling due at once come into memory a window at a time, and every one is delivered once")]
    public void DueTasksRespectTheWindow()
    {
        // Found by PartitionProperties: 73 tasks of one batch fell due together and all 73 came into a window of 4.
        var h = new EngineHarness(new PartitionOptions { ReadyWindow = 10 });
        var specs = Enumerable.Range(0, 1_000).Select(i => Spec($"t{i}", delayMs: 100)).ToArray();
        Assert.IsType<EnqueuedBatch>(h.Call(new EnqueueBatch("q", specs)));
        h.Advance(200);
        Assert.InRange(h.Engine.WindowCount, 1, 10 + 64);

        var got = new List<string>();
        for (var i = 0; i < 500 && got.Count < 1_000; i++)
        {
            foreach (var t in h.Poll(max: 7))
            {
                got.Add(Text(t));
                h.Call(new Complete(t.LeaseToken));
            }
            Assert.InRange(h.Engine.WindowCount, 0, 10 + 64);
            h.Advance(10);
        }
        Assert.Equal(specs.Select(s => System.Text.Encoding.UTF8.GetString(s.Payload)).Order(), got.Order());
        Assert.Equal(0, h.Engine.Stats().Ready);
    }

    [Fact(DisplayName = "a window and a lease table that held a thousand give their storage back when the partition goes idle, and serve again afterwards")]
    public void IdleGivesStorageBack()
    {
        var window = new ReadyWindow();
        var leases = new LeaseTable();
        for (var i = 1; i <= 1_000; i++)
        {
            window.Add(new ReadyTask(new TaskRecord { Seq = TaskSeq.Of(i, 0).Value, Payload = [1] }, 0, 3, 1));
            leases.Add(new Lease { Seq = i, Attempt = 1, MaxAttempts = 3, EnqueuedAtMs = 0, LeaseMs = 10, Nonce = i, Epoch = 1, ExpiresAtMs = 100 });
        }
        window.Release(); // not idle yet: nothing is given back
        leases.Release();
        Assert.InRange(window.IndexCapacity, 1_000, int.MaxValue);
        Assert.True(leases.HoldsStorage);

        while (window.Best is not null) window.TakeBest();
        for (var i = 1; i <= 1_000; i++) Assert.True(leases.Remove(i));
        Assert.InRange(window.IndexCapacity, 1_000, int.MaxValue); // emptied, the storage stays until the partition is idle
        window.Release();
        leases.Release();
        Assert.InRange(window.IndexCapacity, 0, 10);
        Assert.False(leases.HoldsStorage);
        Assert.Equal(0, leases.Count);
        Assert.Empty(leases.All);
        Assert.False(leases.TryGet(1, out _));
        Assert.Empty(leases.TakeExpired(1_000));

        window.Add(new ReadyTask(new TaskRecord { Seq = TaskSeq.Of(1_001, 0).Value, Payload = [1] }, 0, 3, 1));
        leases.Add(new Lease { Seq = 7, Attempt = 1, MaxAttempts = 3, EnqueuedAtMs = 0, LeaseMs = 10, Nonce = 7, Epoch = 1, ExpiresAtMs = 100 });
        Assert.Equal(1, window.Total);
        Assert.True(leases.Contains(7));
    }

    [Fact(DisplayName = "a partition drained of a full window gives the storage back once its upkeep finds it idle")]
    public void DrainedPartitionGivesStorageBack()
    {
        var h = new EngineHarness(new PartitionOptions { ReadyWindow = 500 });
        Assert.IsType<EnqueuedBatch>(h.Call(new EnqueueBatch("q", Enumerable.Range(0, 500).Select(i => Spec($"t{i}")).ToArray())));
        var leased = h.Poll(max: 500);
        Assert.Equal(500, leased.Length);
        Assert.True(h.Engine.Storage.WindowIndexCapacity >= 500);
        Assert.True(h.Engine.Storage.LeaseStorage);

        var upkeep = new PartitionUpkeep(h.Options, gossips: false);
        var timers = new RecordingTimers();
        upkeep.Start(h.Engine, timers);
        foreach (var task in leased) h.Call(new Complete(task.LeaseToken));
        Assert.True(h.Engine.IsIdle);
        upkeep.AfterMessage(null, h.Engine, timers);
        Assert.InRange(h.Engine.Storage.WindowIndexCapacity, 0, 10);
        Assert.False(h.Engine.Storage.LeaseStorage);

        // And it serves as before.
        h.Enqueue("again");
        Assert.Equal("again", Text(Assert.Single(h.Poll())));
    }

    /// <summary>
    /// The most a never-used partition's engine and state may allocate: 1,720 bytes on 2026-12-02, 2,496 before their
    /// collections were made on first use.
    /// </summary>
    private const long EmptyPartitionBytes = 2_048;

    [Fact(DisplayName = "the engine and state of a partition nobody has used yet allocate under 2 KiB: collections are made when first needed")]
    public void UnusedPartitionIsSmall()
    {
        // A node holds many partitions that are idle, or see only one kind of work: their memory per queue is the
        // target of issue #11 (BENCHMARKS.md). Counted on this thread: garbage included, so it bounds what is kept.
        var effects = new EngineHarness();
        var random = new Random(1);
        var epoch = new PartitionBatch { Entries = [BatchEntry.Of(EntryKind.OwnerEpochStarted, atMs: 1)] };
        epoch.Entries[0].LeaseKey = LeaseSigner.NewKey();
        PartitionEngine Build()
        {
            var state = new DurablePartitionState(); // as the writer makes it: empty, then its first owner's epoch
            state.Apply(epoch, 1);
            return new(Id, effects.Options, state, effects, () => 0, random, effects.Stats);
        }
        GC.KeepAlive(Build()); // the first one compiles and fills static caches
        var before = GC.GetAllocatedBytesForCurrentThread();
        var engine = Build();
        var bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        GC.KeepAlive(engine);
        Assert.InRange(bytes, 1, EmptyPartitionBytes);
    }
}
