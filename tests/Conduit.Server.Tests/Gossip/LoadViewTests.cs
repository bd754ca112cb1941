using Conduit.Protocol;
using Conduit.Server.Gossip;
using CsCheck;
using Xunit;

namespace Conduit.Server.Tests.Gossip;

/// <summary>The frontend's view of the nodes' gossiped load (one <see cref="NodeLoad"/> per node) and the routing choices made from it.</summary>
public sealed class LoadViewTests
{
    [Fact(DisplayName = "the nodes' entries are merged: a partition listed by none has no load, one listed by two counts as the newer entry says")]
    public void MergesNodeEntries()
    {
        var view = new LoadView();
        view.Update([
            new NodeLoad(["default/q#0", "default/q#1"], [5, 9], [0, 0], AtUnixMs: 100),
            new NodeLoad(["default/q#1", "default/q#2"], [0, 0], [0, 3], AtUnixMs: 200), // q#1 moved here and is empty now
        ]);
        Assert.Equal((5L, 0), view.Of("default", "q", 0));
        Assert.Equal((0L, 0), view.Of("default", "q", 1));
        Assert.Equal((0L, 3), view.Of("default", "q", 2));
        Assert.Equal((0L, 0), view.Of("default", "q", 3));
        Assert.Equal((0L, 0), view.Of("other", "q", 0));
        Assert.Equal([0], view.BusiestFirst("default", "q", 4));
    }

    [Fact(DisplayName = "enqueues spread evenly over partitions of equal load, also when a producer alternates between queues")]
    public void EqualLoadsSpreadEvenly()
    {
        var view = new LoadView(new Random(7));
        view.Update([new NodeLoad(["default/a#0", "default/a#1", "default/a#2", "default/a#3"], [3, 3, 3, 3], [0, 0, 0, 0], 1)]);
        var a = new int[4];
        var b = new int[4];
        for (var i = 0; i < 8_000; i++)
        {
            a[view.ForEnqueue("default", "a", 4)]++;
            b[view.ForEnqueue("default", "b", 4)]++;
        }
        // 1/4 each, σ ≈ 0.5 %: a turn shared by both queues would show each queue only every other partition.
        Assert.All(a.Concat(b), n => Assert.InRange(n / 8_000.0, 0.22, 0.28));
        Assert.Equal(0, view.ForEnqueue("default", "a", 1));
    }

    [Fact(DisplayName = "a partition with a waiting poller draws about twice its share of enqueues, not all of them (the view may be a second old)")]
    public void WaitingPollerDrawsMoreNotAll()
    {
        var view = new LoadView(new Random(11));
        view.Update([new NodeLoad(["default/q#0", "default/q#2", "default/q#3"], [40, 0, 5], [0, 1, 0], 1)]);
        var picks = Picks(view, 4, 8_000);
        // Scores: q#2 -1 (a poller), q#1 0 (idle), q#3 5, q#0 40. A partition draws (a + b)/16, a = partitions no better
        // than it (itself included), b = partitions worse: q#2 7/16, q#1 5/16, q#3 3/16, q#0 1/16 (σ ≈ 0.5 % each).
        Assert.InRange(picks[2] / 8_000.0, 0.40, 0.475);
        Assert.InRange(picks[1] / 8_000.0, 0.28, 0.345);
        Assert.InRange(picks[3] / 8_000.0, 0.16, 0.215);
        Assert.InRange(picks[0] / 8_000.0, 0.045, 0.08);
    }

    [Fact(DisplayName = "whatever the gossiped loads, every partition draws at least 1/n² of the enqueues, the best ones at least 1/n, a strictly worst one no more than 1/n²")]
    public void NoPartitionIsStarved()
    {
        var loads = Gen.Select(Gen.Int[0, 60], Gen.Int[0, 2]);
        Gen.Select(loads.Array[2, 12], Gen.Int).Sample((partitions, seed) =>
        {
            var n = partitions.Length;
            var view = new LoadView(new Random(seed));
            view.Update([new NodeLoad(
                Enumerable.Range(0, n).Select(p => $"default/q#{p}").ToArray(),
                partitions.Select(l => (long)l.Item1).ToArray(), partitions.Select(l => l.Item2).ToArray(), 1)]);
            var total = 400 * n * n;
            var picks = Picks(view, n, total);
            var scores = partitions.Select(l => l.Item2 > 0 ? -l.Item2 : l.Item1).ToArray();
            for (var p = 0; p < n; p++)
            {
                var share = picks[p] / (double)total;
                Assert.True(share >= 0.7 / (n * n), $"partition {p} of {n} drew {share:P2} ({string.Join(", ", scores)})");
                if (scores[p] == scores.Min()) Assert.True(share >= 0.7 / n, $"best partition {p} drew {share:P2}");
                if (scores.Count(s => s >= scores[p]) == 1) Assert.True(share <= 1.3 / (n * n), $"worst partition {p} drew {share:P2}");
            }
        }, iter: 200);
    }

    private static int[] Picks(LoadView view, int partitions, int count)
    {
        var picks = new int[partitions];
        for (var i = 0; i < count; i++) picks[view.ForEnqueue("default", "q", partitions)]++;
        return picks;
    }

    [Fact(DisplayName = "an entry with missing or uneven arrays is read as far as it goes, never thrown on")]
    public void ToleratesMalformedEntries()
    {
        var view = new LoadView();
        view.Update([new NodeLoad(null!, null!, null!, 1), new NodeLoad(["default/q#0", "default/q#1"], [4], [0, 0], 1)]);
        Assert.Equal((4L, 0), view.Of("default", "q", 0));
        Assert.Equal((0L, 0), view.Of("default", "q", 1));
    }
}
