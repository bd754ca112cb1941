namespace Conduit.Server.Dashboard;

/// <summary>
/// The last minutes of queue depth the dashboard charts: one ring of samples for the totals of every queue, and one for
/// each of the <see cref="TopQueues"/> deepest queues at each sample. Memory is bounded whatever the number of queues:
/// at most 2 × <see cref="TopQueues"/> rings of <see cref="Capacity"/> points (a queue that has not been among the
/// deepest for a whole window is dropped, and beyond that bound the one out of the top longest goes first). Pure
/// (no timers, no Akka): <see cref="QueueSampler"/> feeds it. Thread-safe.
/// </summary>
internal sealed class QueueHistory(int capacity = QueueHistory.DefaultCapacity, int topQueues = QueueHistory.DefaultTopQueues)
{
    /// <summary>Points kept per series: 180, 15 minutes at the sampler's 5 s.</summary>
    public const int DefaultCapacity = 180;
    /// <summary>How many queues get a series of their own: the 20 deepest (ready + delayed + running + dead) at each sample.</summary>
    public const int DefaultTopQueues = 20;

    /// <summary>
    /// How long after the dashboard was last looked at the sampler keeps sampling: 15 minutes, the chart's window. A node
    /// nobody watches does not ask for its queue list every few seconds (that fan-out asks every running queue for its
    /// stats, which would keep idle partitions from passivating and cost CPU per queue).
    /// </summary>
    public static readonly TimeSpan WatchedFor = TimeSpan.FromMinutes(15);

    private long _viewedAtMs = long.MinValue;

    /// <summary>The dashboard's data was asked for at <paramref name="nowMs"/>: sample for <see cref="WatchedFor"/> from now.</summary>
    public void Viewed(long nowMs) => Interlocked.Exchange(ref _viewedAtMs, nowMs);

    /// <summary>Whether someone asked for the dashboard's data within <see cref="WatchedFor"/> of <paramref name="nowMs"/>.</summary>
    public bool IsWatched(long nowMs)
    {
        var viewed = Interlocked.Read(ref _viewedAtMs);
        return viewed != long.MinValue && nowMs - viewed <= (long)WatchedFor.TotalMilliseconds;
    }

    /// <summary>One sample: a queue's (or all queues') depth at a time.</summary>
    public readonly record struct Point(long AtUnixMs, long Ready, long Delayed, long Running, long Dead)
    {
        /// <summary>Tasks not yet done: ready, delayed and running.</summary>
        public long Backlog => Ready + Delayed + Running;
    }

    private sealed class Series(int capacity)
    {
        private readonly Point[] _points = new Point[capacity];
        private int _next;
        public int Count { get; private set; }
        /// <summary>The sample number at which the queue was last among the deepest.</summary>
        public long LastTopSample { get; set; }

        public void Add(Point point)
        {
            _points[_next] = point;
            _next = (_next + 1) % _points.Length;
            Count = Math.Min(Count + 1, _points.Length);
        }

        public Point[] ToArray()
        {
            var result = new Point[Count];
            for (var i = 0; i < Count; i++) result[i] = _points[(_next - Count + i + _points.Length) % _points.Length];
            return result;
        }
    }

    private readonly Lock _lock = new();
    private readonly Series _totals = new(capacity);
    private readonly Dictionary<(string Namespace, string Queue), Series> _queues = new();
    private long _samples;

    public int Capacity => capacity;
    public int TopQueues => topQueues;

    /// <summary>Adds the sample taken at <paramref name="atUnixMs"/>: the totals, and a point for each of the deepest queues.</summary>
    public void Record(long atUnixMs, IReadOnlyCollection<QueueStats> queues)
    {
        lock (_lock)
        {
            _samples++;
            _totals.Add(new Point(atUnixMs, queues.Sum(q => q.Ready), queues.Sum(q => q.Delayed), queues.Sum(q => q.Running),
                queues.Sum(q => q.DeadLettered)));
            var deepest = queues
                .OrderByDescending(q => q.Ready + q.Delayed + q.Running + q.DeadLettered)
                .ThenBy(q => q.Namespace, StringComparer.Ordinal).ThenBy(q => q.Queue, StringComparer.Ordinal)
                .Take(topQueues);
            foreach (var q in deepest)
            {
                var key = (q.Namespace ?? PartitionId.DefaultNamespace, q.Queue);
                if (!_queues.TryGetValue(key, out var series)) _queues[key] = series = new Series(capacity);
                series.Add(new Point(atUnixMs, q.Ready, q.Delayed, q.Running, q.DeadLettered));
                series.LastTopSample = _samples;
            }
            // Out of the top for a whole window: nothing of it is left to chart.
            foreach (var stale in _queues.Where(e => _samples - e.Value.LastTopSample >= capacity).Select(e => e.Key).ToList())
                _queues.Remove(stale);
            while (_queues.Count > 2 * topQueues)
                _queues.Remove(_queues.MinBy(e => e.Value.LastTopSample).Key);
        }
    }

    /// <summary>The totals over every queue, oldest first.</summary>
    public Point[] Totals()
    {
        lock (_lock) return _totals.ToArray();
    }

    /// <summary>The samples of one queue, oldest first; empty when it has not been among the deepest lately.</summary>
    public Point[] Of(string @namespace, string queue)
    {
        lock (_lock) return _queues.TryGetValue((@namespace, queue), out var series) ? series.ToArray() : [];
    }

    /// <summary>How many queues have a series now (bounded by 2 × <see cref="TopQueues"/>).</summary>
    public int TrackedQueues
    {
        get
        {
            lock (_lock) return _queues.Count;
        }
    }

    /// <summary>
    /// Change per minute of the backlog (ready + delayed + running) and of the dead letters over about the last minute
    /// of <paramref name="points"/>; null with fewer than two points.
    /// </summary>
    public static (double BacklogPerMinute, double DeadPerMinute)? Trend(Point[] points, long windowMs = 60_000)
    {
        if (points.Length < 2) return null;
        var last = points[^1];
        var first = points.LastOrDefault(p => last.AtUnixMs - p.AtUnixMs >= windowMs, points[0]);
        var minutes = (last.AtUnixMs - first.AtUnixMs) / 60_000.0;
        if (minutes <= 0) return null;
        return ((last.Backlog - first.Backlog) / minutes, (last.Dead - first.Dead) / minutes);
    }
}
