using System.Diagnostics.Metrics;
using Conduit.Server.Metrics;
using Xunit;

namespace Conduit.Server.Tests.Metrics;

public sealed class QueueStatsRegistryTests
{
    /// <summary>Every measurement the node's observable instruments report in one collection, by instrument name.</summary>
    private static Dictionary<string, List<(double Value, Dictionary<string, object?> Tags)>> Collect(ServerMetrics metrics)
    {
        var seen = new Dictionary<string, List<(double, Dictionary<string, object?>)>>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, metrics.Meter)) l.EnableMeasurementEvents(instrument);
        };
        void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (!seen.TryGetValue(instrument.Name, out var list)) seen[instrument.Name] = list = [];
            var copy = new Dictionary<string, object?>();
            foreach (var tag in tags) copy[tag.Key] = tag.Value;
            list.Add((value, copy));
        }
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Add(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Add(i, v, t));
        listener.Start();
        listener.RecordObservableInstruments();
        return seen;
    }

    private static readonly string[] PerQueue =
    [
        MetricNames.QueueReady, MetricNames.QueueDelayed, MetricNames.QueueRunning, MetricNames.QueueDeadLettered, MetricNames.QueuePollers,
        MetricNames.QueueOldestReadyAge, MetricNames.TasksEnqueued, MetricNames.TasksDispatched, MetricNames.TasksCompleted,
        MetricNames.TasksFailed, MetricNames.TasksRetried, MetricNames.TasksDeadLettered, MetricNames.TasksLeaseExpired,
    ];

    [Fact(DisplayName = "with 1,000 queues and a label limit of 50, every per-queue metric has at most 51 queue label values, the 50 largest queues keep theirs, and the series add up to the whole")]
    public void CardinalityIsBounded()
    {
        using var metrics = new ServerMetrics(new MetricsOptions { MaxQueueLabels = 50 });
        long readyTotal = 0, enqueuedTotal = 0;
        for (var q = 0; q < 1000; q++)
        {
            // Two partitions for every tenth queue; queue q has backlog q (so q950..q999 are the largest).
            for (var p = 0; p < (q % 10 == 0 ? 2 : 1); p++)
            {
                var stats = metrics.Queues.Register(q % 3 == 0 ? "tenant-a" : "default", $"q{q}");
                var ready = p == 0 ? q : 0;
                stats.SetGauges(ready, 1, 0, 0, 0, ready > 0 ? 1_000 : 0);
                stats.Count(PartitionCounter.Enqueued, q + 1);
                readyTotal += ready;
                enqueuedTotal += q + 1;
            }
        }

        var seen = Collect(metrics);
        foreach (var name in PerQueue)
        {
            var queues = seen[name].Select(m => $"{m.Tags[MetricNames.Namespace]}/{m.Tags[MetricNames.Queue]}").Distinct().ToList();
            Assert.True(queues.Count <= 51, $"{name} has {queues.Count} queue label values");
            Assert.Contains("_other/_other", queues);
        }
        var labelled = seen[MetricNames.QueueReady].Select(m => (string)m.Tags[MetricNames.Queue]!).Where(q => q != MetricNames.OtherQueues).ToHashSet();
        Assert.Equal(Enumerable.Range(950, 50).Select(q => $"q{q}").ToHashSet(), labelled);
        Assert.Equal(readyTotal, seen[MetricNames.QueueReady].Sum(m => m.Value));
        Assert.Equal(enqueuedTotal, seen[MetricNames.TasksEnqueued].Sum(m => m.Value));
        Assert.Equal(1000 + 100, seen[MetricNames.QueueDelayed].Sum(m => m.Value));
        Assert.Equal(50, Assert.Single(seen[MetricNames.QueueLabelled]).Value);
    }

    [Fact(DisplayName = "a queue keeps its label while it runs; when its last partition stops, its last counts still land in its series and the slot goes to the largest unlabelled queue; no series' counter ever falls")]
    public void LabelsMoveWithoutCountersFalling()
    {
        var now = 1_000_000L;
        var registry = new QueueStatsRegistry(maxLabels: 1, () => now);
        var small = registry.Register("default", "small");
        small.SetGauges(1, 0, 0, 0, 0, 0);
        small.Count(PartitionCounter.Completed, 5);
        Assert.Equal(["small"], registry.Collect(0).Select(s => s.Queue));

        var big = registry.Register("default", "big");
        big.SetGauges(1_000, 0, 0, 0, 0, 0);
        big.Count(PartitionCounter.Completed, 7);
        var mid = registry.Register("default", "mid");
        mid.SetGauges(10, 0, 0, 0, 0, 0);
        now += 1_000;
        var second = registry.Collect(0);
        Assert.Equal(["small", MetricNames.OtherQueues], second.Select(s => s.Queue)); // sticky: small keeps its label
        Assert.Equal((5, 7), (Completed(second, "small"), Completed(second, MetricNames.OtherQueues)));

        small.Count(PartitionCounter.Completed, 2);
        registry.Unregister(small);
        big.Count(PartitionCounter.Completed, 3);
        now += 1_000;
        var third = registry.Collect(0);
        // small is gone (its last 2 were harvested before its label was freed); big, the largest, has the slot now.
        Assert.Equal(["big", MetricNames.OtherQueues], third.Select(s => s.Queue));
        Assert.Equal(1_000, third[0].Gauges[(int)PartitionGauge.Ready]);
        Assert.Equal(3, Completed(third, "big")); // its series starts at the label; what it did before stays in _other
        Assert.Equal(7, Completed(third, MetricNames.OtherQueues));
        Assert.Equal(10, third[1].Gauges[(int)PartitionGauge.Ready]);
    }

    [Fact(DisplayName = "with a label limit of 0 every queue is summed into _other, and the oldest ready age is the oldest of its partitions")]
    public void ZeroLabelsFoldsEverything()
    {
        var now = 100_000L;
        var registry = new QueueStatsRegistry(maxLabels: 0, () => now);
        registry.Register("a", "x").SetGauges(3, 0, 0, 0, 0, now - 5_000);
        registry.Register("b", "y").SetGauges(4, 0, 0, 0, 0, now - 9_000);
        var series = Assert.Single(registry.Collect(0));
        Assert.True(series.IsOther);
        Assert.Equal((7L, 9_000L), (series.Gauges[(int)PartitionGauge.Ready], series.OldestReadyAgeMs));
        Assert.Equal(2, registry.Queues().Count); // the unfolded read API still sees both
    }

    private static long Completed(IReadOnlyList<QueueSeries> series, string queue) =>
        series.Single(s => s.Queue == queue).Totals[(int)PartitionCounter.Completed];
}
