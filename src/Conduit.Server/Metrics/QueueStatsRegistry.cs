namespace Conduit.Server.Metrics;

/// <summary>One series of the per-queue metrics: a labelled queue, or every other queue summed (<see cref="IsOther"/>).</summary>
internal sealed class QueueSeries
{
    public QueueSeries(string ns, string queue)
    {
        Namespace = ns;
        Queue = queue;
        Tags = [new(MetricNames.Namespace, ns), new(MetricNames.Queue, queue)];
    }

    public string Namespace { get; }
    public string Queue { get; }
    public bool IsOther => ReferenceEquals(Queue, MetricNames.OtherQueues);
    /// <summary>Its labels, made once (a collection allocates no tag arrays).</summary>
    public KeyValuePair<string, object?>[] Tags { get; }
    /// <summary>Counts since the series began (it begins when the queue gets its label); only ever grow.</summary>
    public long[] Totals { get; } = new long[PartitionStats.CounterCount];
    /// <summary>The gauges at the last collection, summed over the queue's partitions on this node.</summary>
    public long[] Gauges { get; } = new long[PartitionStats.GaugeCount];
    /// <summary>Age of the oldest ready task at the last collection, in ms (0: none ready).</summary>
    public long OldestReadyAgeMs { get; set; }
}

/// <summary>A queue's current figures on this node (all its partitions here), for readers other than the meter (the dashboard).</summary>
public sealed record QueueFigures(string Namespace, string Queue, int Partitions, long Ready, long Delayed, long Running,
    long DeadLettered, long Pollers, long OldestReadyAgeMs, long Enqueued, long Completed);

/// <summary>
/// The node's live partitions' <see cref="PartitionStats"/>, and the per-queue series the meter reports from them.
/// <para>
/// <b>Cardinality.</b> At most <see cref="MetricsOptions.MaxQueueLabels"/> queues have series of their own; every other
/// queue is summed into one series labelled <c>queue="_other"</c>, <c>namespace="_other"</c>. At each collection, free
/// label slots go to the unlabelled queues with the largest backlog (ready + delayed + running), then the most activity
/// since the last collection; a queue keeps its label while any of its partitions runs on this node (so its counters never
/// jump between series) and gives it up when the last one stops (passivated when idle, or moved). Counters are kept per
/// series from what each partition counted since the previous collection, so every series' counters only grow.
/// </para>
/// Partitions register and unregister from their actors' threads; collection runs on the collector's thread; both take
/// the one lock (a partition start or stop, a scrape: not the per-task path).
/// </summary>
internal sealed class QueueStatsRegistry
{
    private readonly record struct QueueKey(string Namespace, string Queue);

    private readonly object _gate = new();
    private readonly int _maxLabels;
    private readonly Func<long> _nowMs;
    private readonly Dictionary<QueueKey, List<PartitionStats>> _live = new();
    /// <summary>Partitions stopped since the last collection, whose last counts are still to be added to their series.</summary>
    private readonly List<PartitionStats> _retired = [];
    private readonly Dictionary<QueueKey, QueueSeries> _labelled = new();
    private readonly QueueSeries _other = new(MetricNames.OtherQueues, MetricNames.OtherQueues);
    private bool _otherUsed;
    private QueueSeries[] _last = [];
    private long _lastAtMs;
    private bool _collected;

    public QueueStatsRegistry(int maxLabels, Func<long>? nowMs = null)
    {
        _maxLabels = Math.Max(0, maxLabels);
        _nowMs = nowMs ?? (() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    }

    public int MaxLabels => _maxLabels;

    /// <summary>A partition starts on this node: its stats, counted from zero.</summary>
    public PartitionStats Register(string ns, string queue, ServerMetrics? metrics = null)
    {
        var stats = new PartitionStats(ns, queue, metrics);
        lock (_gate)
        {
            var key = new QueueKey(ns, queue);
            if (!_live.TryGetValue(key, out var partitions)) _live[key] = partitions = [];
            partitions.Add(stats);
        }
        return stats;
    }

    /// <summary>A partition stopped: its last counts still go into its series at the next collection.</summary>
    public void Unregister(PartitionStats stats)
    {
        lock (_gate)
        {
            var key = new QueueKey(stats.Namespace, stats.Queue);
            if (!_live.TryGetValue(key, out var partitions) || !partitions.Remove(stats)) return;
            if (partitions.Count == 0) _live.Remove(key);
            _retired.Add(stats);
        }
    }

    public int LivePartitions
    {
        get { lock (_gate) return _live.Values.Sum(p => p.Count); }
    }

    /// <summary>
    /// The per-queue series now: at most <see cref="MaxLabels"/> labelled ones and <c>_other</c>. Collections closer together
    /// than <paramref name="maxAgeMs"/> share one result, so the instruments of one scrape read one consistent set.
    /// </summary>
    public IReadOnlyList<QueueSeries> Collect(long maxAgeMs = 200)
    {
        lock (_gate)
        {
            var now = _nowMs();
            if (_collected && now >= _lastAtMs && now - _lastAtMs < maxAgeMs) return _last;
            _collected = true;
            _lastAtMs = now;
            // 1. What stopped since the last time: its last counts, to the series it belonged to.
            foreach (var stats in _retired) Harvest(stats, SeriesOf(new QueueKey(stats.Namespace, stats.Queue)));
            _retired.Clear();
            // 2. Labels of queues with no partition here any more are free again.
            List<QueueKey>? gone = null;
            foreach (var key in _labelled.Keys)
                if (!_live.ContainsKey(key)) (gone ??= []).Add(key);
            if (gone is not null) foreach (var key in gone) _labelled.Remove(key);
            // 3. Free slots to the largest unlabelled queues (their counts so far went to _other).
            var free = _maxLabels - _labelled.Count;
            if (free > 0 && _live.Count > _labelled.Count)
            {
                var candidates = _live.Where(kv => !_labelled.ContainsKey(kv.Key))
                    .Select(kv => (kv.Key, Size: Size(kv.Value), Activity: Activity(kv.Value)));
                var chosen = _live.Count - _labelled.Count <= free
                    ? candidates.ToList()
                    : candidates.OrderByDescending(c => c.Size).ThenByDescending(c => c.Activity).Take(free).ToList();
                foreach (var c in chosen) _labelled[c.Key] = new QueueSeries(c.Key.Namespace, c.Key.Queue);
            }
            // 4. Counts and gauges of every live partition into its series.
            foreach (var series in _labelled.Values) ClearGauges(series);
            ClearGauges(_other);
            foreach (var (key, partitions) in _live)
            {
                var series = SeriesOf(key);
                foreach (var stats in partitions)
                {
                    Harvest(stats, series);
                    for (var g = 0; g < PartitionStats.GaugeCount; g++) series.Gauges[g] += stats.Gauge((PartitionGauge)g);
                    var oldest = stats.OldestReadyEnqueuedAtMs;
                    if (oldest > 0) series.OldestReadyAgeMs = Math.Max(series.OldestReadyAgeMs, Math.Max(0, now - oldest));
                }
            }
            var result = new List<QueueSeries>(_labelled.Count + 1);
            result.AddRange(_labelled.Values);
            if (_otherUsed) result.Add(_other);
            return _last = result.ToArray();
        }
    }

    /// <summary>Every live queue's figures on this node, unfolded (a reader such as a dashboard sorts and pages them).</summary>
    public IReadOnlyList<QueueFigures> Queues()
    {
        var now = _nowMs();
        lock (_gate)
        {
            var figures = new List<QueueFigures>(_live.Count);
            foreach (var (key, partitions) in _live)
            {
                long Sum(PartitionGauge g) => partitions.Sum(p => p.Gauge(g));
                long Total(PartitionCounter c) => partitions.Sum(p => p.Counter(c));
                var oldest = partitions.Select(p => p.OldestReadyEnqueuedAtMs).Where(t => t > 0).DefaultIfEmpty(0).Min();
                figures.Add(new QueueFigures(key.Namespace, key.Queue, partitions.Count, Sum(PartitionGauge.Ready), Sum(PartitionGauge.Delayed),
                    Sum(PartitionGauge.Running), Sum(PartitionGauge.DeadLettered), Sum(PartitionGauge.Pollers),
                    oldest > 0 ? Math.Max(0, now - oldest) : 0, Total(PartitionCounter.Enqueued), Total(PartitionCounter.Completed)));
            }
            return figures;
        }
    }

    private QueueSeries SeriesOf(QueueKey key)
    {
        if (_labelled.TryGetValue(key, out var series)) return series;
        _otherUsed = true;
        return _other;
    }

    private static void Harvest(PartitionStats stats, QueueSeries series)
    {
        for (var c = 0; c < PartitionStats.CounterCount; c++)
        {
            var now = stats.Counter((PartitionCounter)c);
            series.Totals[c] += now - stats.Harvested[c];
            stats.Harvested[c] = now;
        }
    }

    private static void ClearGauges(QueueSeries series)
    {
        Array.Clear(series.Gauges);
        series.OldestReadyAgeMs = 0;
    }

    private static long Size(List<PartitionStats> partitions)
    {
        long n = 0;
        foreach (var p in partitions)
            n += p.Gauge(PartitionGauge.Ready) + p.Gauge(PartitionGauge.Delayed) + p.Gauge(PartitionGauge.Running);
        return n;
    }

    private static long Activity(List<PartitionStats> partitions)
    {
        long n = 0;
        foreach (var p in partitions)
            for (var c = 0; c < PartitionStats.CounterCount; c++) n += p.Counter((PartitionCounter)c) - p.Harvested[c];
        return n;
    }
}
