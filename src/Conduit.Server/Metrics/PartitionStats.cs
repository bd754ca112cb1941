namespace Conduit.Server.Metrics;

/// <summary>What a partition's gauges read; summed per queue, except <see cref="OldestReadyEnqueuedAtMs"/>.</summary>
internal enum PartitionGauge
{
    Ready,
    Delayed,
    Running,
    DeadLettered,
    Pollers,
}

/// <summary>What a partition counts; each only ever grows.</summary>
internal enum PartitionCounter
{
    Enqueued,
    DispatchedSync,
    DispatchedBacklog,
    Completed,
    Failed,
    Retried,
    DeadLettered,
    LeaseExpired,
}

/// <summary>
/// The metrics of one running partition: a few plain fields its actor writes as it goes (one add per batch or per
/// decision, the gauges after each message; no allocation, no lock, no instrument call), read by the node's
/// <see cref="QueueStatsRegistry"/> when something collects. One writer (the partition's thread), any number of readers:
/// a reader may see a value a message old, never a torn one (aligned 64-bit fields).
/// </summary>
internal sealed class PartitionStats(string ns, string queue, ServerMetrics? metrics = null)
{
    public static readonly int GaugeCount = Enum.GetValues<PartitionGauge>().Length;
    public static readonly int CounterCount = Enum.GetValues<PartitionCounter>().Length;

    public string Namespace { get; } = ns;
    public string Queue { get; } = queue;
    /// <summary>The node's instruments for what is recorded per task or per write (histograms); null in tests without a node.</summary>
    public ServerMetrics? Metrics { get; } = metrics;

    private readonly long[] _gauges = new long[GaugeCount];
    private readonly long[] _counters = new long[CounterCount];
    private long _oldestReadyEnqueuedAtMs;

    /// <summary>The registry's: what of <see cref="Counter"/> it has already added to a series.</summary>
    internal readonly long[] Harvested = new long[CounterCount];

    // ---- the partition's side ----

    public void Count(PartitionCounter counter, long n = 1) => _counters[(int)counter] += n;

    /// <summary>The gauges now; <paramref name="oldestReadyEnqueuedAtMs"/> 0 when nothing is ready.</summary>
    public void SetGauges(long ready, long delayed, long running, long deadLettered, long pollers, long oldestReadyEnqueuedAtMs)
    {
        _gauges[(int)PartitionGauge.Ready] = ready;
        _gauges[(int)PartitionGauge.Delayed] = delayed;
        _gauges[(int)PartitionGauge.Running] = running;
        _gauges[(int)PartitionGauge.DeadLettered] = deadLettered;
        _gauges[(int)PartitionGauge.Pollers] = pollers;
        _oldestReadyEnqueuedAtMs = oldestReadyEnqueuedAtMs;
    }

    // ---- the readers' side ----

    public long Counter(PartitionCounter counter) => Volatile.Read(ref _counters[(int)counter]);
    public long Gauge(PartitionGauge gauge) => Volatile.Read(ref _gauges[(int)gauge]);
    public long OldestReadyEnqueuedAtMs => Volatile.Read(ref _oldestReadyEnqueuedAtMs);
}
