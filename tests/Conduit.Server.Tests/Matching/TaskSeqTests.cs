using Conduit.Protocol;
using Conduit.Server.Persistence;
using Xunit;

namespace Conduit.Server.Tests.Matching;

public sealed class TaskSeqTests
{
    [Theory(DisplayName = "a task sequence number packs the counter above four bits of priority, as task ids and journals have always carried it")]
    [InlineData(1L, 0, 16L)]
    [InlineData(1L, 9, 25L)]
    [InlineData(123_456L, 5, 1_975_301L)]
    [InlineData(42L, 7, 679L)]
    public void PacksAsTheJournalDoes(long counter, int priority, long packed)
    {
        var seq = TaskSeq.Of(counter, priority);
        Assert.Equal(packed, seq.Value);
        Assert.Equal(packed, (counter << 4) | (uint)priority); // the layout journals and snapshots were written with
        Assert.Equal((counter, priority), (seq.Counter, seq.Priority));
    }

    [Fact(DisplayName = "a large counter keeps its priority and comes back whole")]
    public void LargeCounter()
    {
        var counter = long.MaxValue >> TaskSeq.PriorityBits;
        var seq = TaskSeq.Of(counter, TaskSpec.MaxPriority);
        Assert.Equal((counter, TaskSpec.MaxPriority), (seq.Counter, seq.Priority));
    }

    [Fact(DisplayName = "the same counter with another priority is another sequence number with that counter")]
    public void WithPriority()
    {
        var seq = TaskSeq.Of(77, 3);
        var other = seq.WithPriority(8);
        Assert.NotEqual(seq, other);
        Assert.Equal((77L, 8), (other.Counter, other.Priority));
    }

    [Fact(DisplayName = "task ids, task records and exception entries read counter and priority the same way")]
    public void SameReadingEverywhere()
    {
        var seq = TaskSeq.Of(1_000_000, 6);
        var id = new TaskId(PartitionId.Of("q", 2), seq);
        Assert.Equal((seq.Counter, seq.Priority), (id.Counter, id.Priority));
        Assert.Equal(seq.Value, TaskId.MakeSeq(1_000_000, 6));
        var record = new TaskRecord { Seq = seq };
        Assert.Equal((seq.Counter, seq.Priority), (record.Counter, record.Priority));
        var entry = new TaskEntry { Seq = seq };
        Assert.Equal((seq.Counter, seq.Priority), (entry.Counter, entry.Priority));
    }
}

public sealed class TaskSeqJournalBytesTests
{
    // Bytes as journals and snapshots hold them; the serialized members are those main had before TaskSeq
    // (only [MemoryPackIgnore] accessors changed), so these are the bytes existing journals contain.
    /// <summary>The same event as written before queue limits (<see cref="BatchEntry.Limits"/>) existed: still read.</summary>
    private const string BatchHexBeforeLimits =
        "0184B200020000000B0108330408040408080004013700000000000000070807040808040437000000000000000300000001"
        + "0203FFFFFFFF00E897B69A01000000E897B69A01000005000000FFFFFFFF000000000000000000000000FFFFFFFF00000000"
        + "00000000000000000000000000000000FFFFFFFF0B0108010408040408080004032900000000000000FF0000000000000000"
        + "00000000FFFFFFFF0000000000000000000000000000000000000000FFFFFFFF";
    /// <summary>The same snapshot as written before queue limits existed: still read.</summary>
    private const string SnapshotHexBeforeLimits =
        "0C08010814555404040404040402000000000000000004000000000000000200000001000000000000000300000000000000"
        + "010000000B080801040408080804080837000000000000000C00000000000000040500000005000000000000000000000000"
        + "000000000000000000000000000000FFFFFFFF000000000000000000000000000000000A0000000000000000000000000000"
        + "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
        + "000000000000000000000000000000000000000000000000000000000000000000000000000000FFFFFFFF";

    private const string BatchHex =
        "0184BB00020000000C0108380408040408080004010137000000000000000808070408080404043700000000000000030000"
        + "00010203FFFFFFFF00E897B69A01000000E897B69A01000005000000FFFFFFFFFFFFFFFF000000000000000000000000FFFF"
        + "FFFF0000000000000000000000000000000000000000FFFFFFFFFF0C010801040804040808000401032900000000000000FF"
        + "000000000000000000000000FFFFFFFF0000000000000000000000000000000000000000FFFFFFFFFF";
    private const string SnapshotHex =
        "0D080108145A5404040404040401020000000000000000040000000000000002000000010000000000000003000000000000"
        + "00010000000C08080104040808080408080437000000000000000C0000000000000004050000000500000000000000000000"
        + "0000000000000000000000000000000000FFFFFFFF00000000000000000000000000000000FFFFFFFF0A0000000000000000"
        + "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
        + "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000FFFFFFFFFF";

    /// <summary>The same event as written before concurrency keys existed: still read.</summary>
    private const string BatchHexBeforeKeys =
        "0184B600020000000C0108330408040408080004010137000000000000000708070408080404370000000000000003000000"
        + "010203FFFFFFFF00E897B69A01000000E897B69A01000005000000FFFFFFFF000000000000000000000000FFFFFFFF000000"
        + "0000000000000000000000000000000000FFFFFFFFFF0C010801040804040808000401032900000000000000FF0000000000"
        + "00000000000000FFFFFFFF0000000000000000000000000000000000000000FFFFFFFFFF";
    /// <summary>The same snapshot as written before concurrency keys existed: still read.</summary>
    private const string SnapshotHexBeforeKeys =
        "0D08010814555404040404040401020000000000000000040000000000000002000000010000000000000003000000000000"
        + "00010000000B080801040408080804080837000000000000000C000000000000000405000000050000000000000000000000"
        + "00000000000000000000000000000000FFFFFFFF000000000000000000000000000000000A00000000000000000000000000"
        + "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
        + "00000000000000000000000000000000000000000000000000000000000000000000000000000000FFFFFFFFFF";

    private static PartitionBatch Batch() => new()
    {
        Entries =
        [
            new BatchEntry
            {
                Kind = EntryKind.Enqueued, Seq = TaskSeq.Of(3, 7),
                Task = new TaskRecord { Seq = TaskSeq.Of(3, 7), Payload = [1, 2, 3], EnqueuedAtMs = 1_764_000_000_000, RunAtMs = 1_764_000_000_000, MaxAttempts = 5 },
            },
            BatchEntry.Of(EntryKind.Completed, TaskSeq.Of(2, 9)),
        ],
    };

    private static PartitionSnapshot Snapshot() => new()
    {
        Epoch = 2, NextCounter = 4, Settled = [1, 3], FreshCount = new long[10],
        Exceptions = [new TaskEntry { Seq = TaskSeq.Of(3, 7), EventSeqNr = 12, State = TaskState.Dead, Attempt = 5, MaxAttempts = 5 }],
    };

    [Fact(DisplayName = "a journal event is written with the same bytes as before, and its tasks read back with their counter and priority")]
    public void BatchBytes()
    {
        Assert.Equal(BatchHex, Convert.ToHexString(MemoryPack.MemoryPackSerializer.Serialize(Batch())));
        foreach (var hex in new[] { BatchHex, BatchHexBeforeKeys, BatchHexBeforeLimits })
        {
            var read = MemoryPack.MemoryPackSerializer.Deserialize<PartitionBatch>(Convert.FromHexString(hex))!;
            Assert.Equal((3L, 7), (read.Entries[0].Task!.Counter, read.Entries[0].Task!.Priority));
            Assert.Equal((2L, 9), (new TaskSeq(read.Entries[1].Seq).Counter, new TaskSeq(read.Entries[1].Seq).Priority));
            Assert.Null(read.Entries[0].Limits);
            Assert.Null(read.Entries[0].Task!.ConcurrencyKey);
        }
        var keyed = new PartitionBatch
        {
            Entries =
            [
                new BatchEntry { Kind = EntryKind.Enqueued, Seq = 1, Task = new TaskRecord { Seq = 1, Payload = [1], ConcurrencyKey = "customer-7" } },
                new BatchEntry { Kind = EntryKind.Dispatched, Seq = 1, Reason = "customer-7" },
            ],
        };
        var back = MemoryPack.MemoryPackSerializer.Deserialize<PartitionBatch>(MemoryPack.MemoryPackSerializer.Serialize(keyed))!;
        Assert.Equal(("customer-7", "customer-7"), (back.Entries[0].Task!.ConcurrencyKey, back.Entries[1].Reason));
    }

    [Fact(DisplayName = "a snapshot is written with the same bytes as before, and its exceptions read back with their counter and priority")]
    public void SnapshotBytes()
    {
        Assert.Equal(SnapshotHex, Convert.ToHexString(MemoryPack.MemoryPackSerializer.Serialize(Snapshot())));
        foreach (var hex in new[] { SnapshotHex, SnapshotHexBeforeKeys, SnapshotHexBeforeLimits })
        {
            var read = MemoryPack.MemoryPackSerializer.Deserialize<PartitionSnapshot>(Convert.FromHexString(hex))!;
            Assert.Equal((3L, 7), (read.Exceptions[0].Counter, read.Exceptions[0].Priority));
            Assert.Null(read.Limits);
        }
    }
}
