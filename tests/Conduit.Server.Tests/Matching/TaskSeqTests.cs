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
