using Conduit.Protocol;
using Conduit.Server.Matching;
using Xunit;
using Xunit.Abstractions;
using static Conduit.Server.Tests.Matching.EngineHarness;

namespace Conduit.Server.Tests.Matching;

/// <summary>The live journal stays within the bound docs/backlog-paging.md states, however many tasks live long.</summary>
public sealed class JournalBoundTests(ITestOutputHelper output)
{
    [Theory(DisplayName = "with thousands of dead letters the live journal stays within 4 × max(snapshot period, relocation round) + 2 × relocation round events through any amount of traffic, and at rest")]
    [InlineData(3_000, 100, 500)]
    [InlineData(300, 20, 500)]
    [InlineData(2_000, 20, 50)] // a round of relocation (40 events) takes longer than a snapshot period
    public void DeadLettersDoNotPinTheJournal(int deadLetters, int snapshotEvery, int maxWriteBatch)
    {
        var options = new PartitionOptions { SnapshotEvery = snapshotEvery, MaxWriteBatch = maxWriteBatch, CompactAtRestAfterMs = 1_000 };
        var h = new EngineHarness(options);
        // Before relocation was sized to the backlog: 3,000 dead letters kept 9,797 live events here (bound 414).
        // Each dead letter in an event of its own, as when they fail one by one: the worst case for relocation's reads.
        for (var i = 0; i < deadLetters; i++)
        {
            h.Enqueue($"d{i}", maxAttempts: 1);
            var t = Assert.Single(h.Poll());
            Assert.IsType<Failed>(h.Call(new Fail(t.LeaseToken, "no", Retryable: false)));
        }
        Assert.Equal(deadLetters, h.Engine.Durable.Exceptions.Count);
        var bound = JournalBound.Events(options, deadLetters);
        long worst = 0;
        for (var i = 0; i < 3_000; i++)
        {
            h.Enqueue($"t{i}");
            h.Call(new Complete(Assert.Single(h.Poll()).LeaseToken));
            if (i >= 3 * snapshotEvery) worst = Math.Max(worst, h.Journal.Count);
        }
        output.WriteLine($"{deadLetters} dead letters, SnapshotEvery {snapshotEvery}, MaxWriteBatch {maxWriteBatch}: at most {worst} live events in traffic (bound {bound})");
        Assert.InRange(worst, 1, bound);

        // At rest: compaction leaves less than the bound, and a recovery from what is left still has every dead letter.
        h.Advance(options.CompactAtRestAfterMs + 1);
        h.Engine.OnHousekeeping();
        h.Settle();
        output.WriteLine($"at rest: {h.Journal.Count} live events");
        Assert.InRange(h.Journal.Count, 1, bound);
        h.Restart();
        Assert.Equal(deadLetters, h.Engine.Stats().DeadLettered);
        var dead = Assert.IsType<DeadLetters>(h.Call(new ListDeadLetters("q", 10_000)));
        Assert.Equal(deadLetters, dead.Items.Length);
    }
}
