using Conduit.Protocol;
using Conduit.Server.Dashboard;
using Xunit;

namespace Conduit.Server.Tests.Dashboard;

public sealed class QueueHistoryTests
{
    private static QueueStats Queue(string name, long ready, long dead = 0, string ns = PartitionId.DefaultNamespace) =>
        new(name, ready, Delayed: 0, Running: 0, dead, OldestReadyAgeMs: 0, WaitingPollers: 0, Paused: false, Partitions: 1, ns);

    [Fact(DisplayName = "the history is watched only within WatchedFor of the last view, and not before any view")]
    public void WatchedOnlyAfterAView()
    {
        var history = new QueueHistory();
        Assert.False(history.IsWatched(1_000_000));
        history.Viewed(1_000_000);
        Assert.True(history.IsWatched(1_000_000 + (long)QueueHistory.WatchedFor.TotalMilliseconds));
        Assert.False(history.IsWatched(1_000_001 + (long)QueueHistory.WatchedFor.TotalMilliseconds));
    }

    [Fact(DisplayName = "the totals keep the last Capacity samples, oldest first, summed over every queue")]
    public void TotalsAreARing()
    {
        var history = new QueueHistory(capacity: 3, topQueues: 2);
        for (var i = 1; i <= 5; i++) history.Record(i * 1000, [Queue("a", i), Queue("b", 10 * i, dead: 1)]);
        var totals = history.Totals();
        Assert.Equal([3000L, 4000L, 5000L], totals.Select(p => p.AtUnixMs));
        Assert.Equal([33L, 44L, 55L], totals.Select(p => p.Ready));
        Assert.All(totals, p => Assert.Equal(1, p.Dead));
    }

    [Fact(DisplayName = "only the deepest queues get a series, and however many queues come and go at most twice that many are kept")]
    public void MemoryStaysBounded()
    {
        var history = new QueueHistory(capacity: 10, topQueues: 5);
        for (var sample = 0; sample < 200; sample++)
        {
            // Every sample a different set of 1,000 queues, with a different deepest few.
            var queues = Enumerable.Range(0, 1000).Select(i => Queue($"q{(i + sample * 7) % 5000}", (i * 31 + sample) % 97)).ToList();
            history.Record(sample * 1000, queues);
            Assert.True(history.TrackedQueues <= 10, $"{history.TrackedQueues} series after sample {sample}");
        }
        Assert.Equal(10, history.Totals().Length);
    }

    [Fact(DisplayName = "a queue out of the top for a whole window loses its series; one that stays keeps its points")]
    public void StaleSeriesGo()
    {
        var history = new QueueHistory(capacity: 4, topQueues: 1);
        history.Record(0, [Queue("deep", 100), Queue("shallow", 1)]);
        history.Record(1000, [Queue("deep", 1), Queue("shallow", 50)]);
        Assert.Single(history.Of(PartitionId.DefaultNamespace, "deep"));
        for (var t = 2; t < 6; t++) history.Record(t * 1000, [Queue("deep", 1), Queue("shallow", 50)]);
        Assert.Empty(history.Of(PartitionId.DefaultNamespace, "deep"));
        Assert.Equal(4, history.Of(PartitionId.DefaultNamespace, "shallow").Length);
        Assert.Empty(history.Of("other", "shallow"));
    }

    [Fact(DisplayName = "the trend is the change per minute of backlog and dead letters over about the last minute")]
    public void Trend()
    {
        QueueHistory.Point P(long atMs, long ready, long dead) => new(atMs, ready, 0, 0, dead);
        Assert.Null(QueueHistory.Trend([P(0, 5, 0)]));
        var trend = QueueHistory.Trend([P(0, 0, 0), P(30_000, 100, 0), P(60_000, 10, 2), P(90_000, 40, 4)]);
        // From the sample a minute before the last (30 s) to the last: -60 backlog and +4 dead in one minute.
        Assert.Equal((-60.0, 4.0), trend);
    }
}
