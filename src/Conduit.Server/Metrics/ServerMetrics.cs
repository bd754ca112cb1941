using System.Diagnostics.Metrics;
using Akka.Actor;
using Akka.Cluster;
using Conduit.Protocol.Remoting;
using Conduit.Server.Matching;

namespace Conduit.Server.Metrics;

/// <summary>
/// The node's <c>Conduit.Server</c> meter (names in <see cref="MetricNames"/>; docs/metrics.md). What changes per task is
/// counted by the partitions in their <see cref="PartitionStats"/> and read by observable instruments when something
/// collects (a scrape, an OTLP export), through the <see cref="QueueStatsRegistry"/>, which bounds the queue labels.
/// Histograms are recorded where the event happens: per write (batch size, write time) and per task (schedule-to-start,
/// run time), without labels. Nothing is recorded, and no callback runs, until a listener (the OpenTelemetry SDK, a
/// <see cref="MeterListener"/>) enables an instrument.
/// </summary>
public sealed class ServerMetrics : IDisposable
{
    private static readonly KeyValuePair<string, object?> SyncMatch = new(MetricNames.Match, "sync");
    private static readonly KeyValuePair<string, object?> BacklogMatch = new(MetricNames.Match, "backlog");
    private static readonly KeyValuePair<string, object?> ScanRead = new(MetricNames.Kind, "scan");
    private static readonly KeyValuePair<string, object?> FetchRead = new(MetricNames.Kind, "fetch");
    private static readonly KeyValuePair<string, object?> PortFull = new(MetricNames.Reason, "port_full");
    private static readonly KeyValuePair<string, object?> AddressFull = new(MetricNames.Reason, "address_full");
    private static readonly KeyValuePair<string, object?> ClientPort = new(MetricNames.Port, "client");
    private static readonly KeyValuePair<string, object?> ClusterPort = new(MetricNames.Port, "cluster");

    private readonly Meter _meter;
    private PartitionCensus? _census;
    private ActorSystem? _system;
    private ActorSystem? _clientEndpoint;

    public ServerMetrics(MetricsOptions? options = null)
    {
        Options = options ?? new MetricsOptions();
        Queues = new QueueStatsRegistry(Options.MaxQueueLabels);
        _meter = new Meter(MetricNames.MeterName, typeof(ServerMetrics).Assembly.GetName().Version?.ToString(3));
        CreateQueueInstruments();

        ScheduleToStart = _meter.CreateHistogram(MetricNames.ScheduleToStart, MetricNames.UnitSeconds,
            "Time from when a task could first run (enqueued, or its run-at time) to its first delivery to a worker",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        RunDuration = _meter.CreateHistogram(MetricNames.RunDuration, MetricNames.UnitSeconds,
            "Time from a delivery to the worker's complete or fail",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        WriteBatchSize = _meter.CreateHistogram<int>(MetricNames.WriteBatchSize, MetricNames.UnitEntries,
            "Entries (enqueues, completions, dispatch hints...) per journal event a partition's writer persists",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] });
        WriteDuration = _meter.CreateHistogram(MetricNames.WriteDuration, MetricNames.UnitSeconds,
            "Time from a writer's persist to the journal's confirmation, per event",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        PageIns = _meter.CreateCounter<long>(MetricNames.PageIns, MetricNames.UnitReads,
            "Reads of a partition's own journal events (kind: scan pages backlog in, fetch reads chosen events)");
        Refusals = _meter.CreateCounter<long>(MetricNames.RequestsRefused, MetricNames.UnitRequests,
            "Client requests answered Overloaded or Unavailable (reason), by the client endpoint's own bounds (source=gateway) or by the cluster (source=cluster)");
        _meter.CreateObservableUpDownCounter(MetricNames.NodePartitions, () => (long)(_census?.Live ?? 0), MetricNames.UnitPartitions,
            "Queue partitions running on this node");
        _meter.CreateObservableUpDownCounter(MetricNames.ClusterMembers, ObserveMembers, MetricNames.UnitNodes,
            "Cluster members by status, as this node sees them");
        _meter.CreateObservableUpDownCounter(MetricNames.ConnectionsOpen,
            () => ObserveConnections(f => [new Measurement<long>(f.Figures.Open, f.Port)]), MetricNames.UnitConnections,
            "TCP connections open on the node's ports (port: client, cluster)");
        _meter.CreateObservableCounter(MetricNames.ConnectionsRefused,
            () => ObserveConnections(f =>
            [
                new Measurement<long>(f.Figures.RefusedPortFull, f.Port, PortFull),
                new Measurement<long>(f.Figures.RefusedAddressFull, f.Port, AddressFull),
            ]), MetricNames.UnitConnections,
            "Connections closed as they were accepted, past a port's limit: reason=port_full (its total) or address_full (one IP address's share)");
    }

    /// <summary>Seconds: 1 ms to 5 min.</summary>
    private static readonly double[] LatencyBuckets =
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

    public MetricsOptions Options { get; }
    /// <summary>This node's meter (a process may run several nodes; an in-process listener tells them apart by this instance).</summary>
    public Meter Meter => _meter;
    internal QueueStatsRegistry Queues { get; }

    /// <summary>Every live queue on this node with its current figures (unfolded, unsorted): a read API for the dashboard.</summary>
    public IReadOnlyList<QueueFigures> QueueFigures() => Queues.Queues();

    internal Histogram<double> ScheduleToStart { get; }
    internal Histogram<double> RunDuration { get; }
    internal Histogram<int> WriteBatchSize { get; }
    internal Histogram<double> WriteDuration { get; }
    internal Counter<long> PageIns { get; }
    internal Counter<long> Refusals { get; }

    /// <summary>The node's partitions and cluster, once its ActorSystem runs (node-level gauges read them).</summary>
    internal void Attach(ActorSystem system, PartitionCensus? census)
    {
        _system = system;
        if (census is not null) _census = census;
    }

    internal void CountPageIn(bool scan) => PageIns.Add(1, scan ? ScanRead : FetchRead);

    internal void CountRefusal(ErrorCode code, bool atGateway)
    {
        if (code is not (ErrorCode.Overloaded or ErrorCode.Unavailable) || !Refusals.Enabled) return;
        Refusals.Add(1, new KeyValuePair<string, object?>(MetricNames.Reason, code == ErrorCode.Overloaded ? "overloaded" : "unavailable"),
            new KeyValuePair<string, object?>(MetricNames.Source, atGateway ? "gateway" : "cluster"));
    }

    private void CreateQueueInstruments()
    {
        Gauge(MetricNames.QueueReady, PartitionGauge.Ready, MetricNames.UnitTasks, "Tasks ready to run now (in memory or still in the journal)");
        Gauge(MetricNames.QueueDelayed, PartitionGauge.Delayed, MetricNames.UnitTasks, "Tasks waiting for their run-at time or a retry backoff");
        Gauge(MetricNames.QueueRunning, PartitionGauge.Running, MetricNames.UnitTasks, "Tasks leased to workers");
        Gauge(MetricNames.QueueDeadLettered, PartitionGauge.DeadLettered, MetricNames.UnitTasks, "Tasks in the dead-letter list");
        Gauge(MetricNames.QueuePollers, PartitionGauge.Pollers, MetricNames.UnitPollers, "Polls waiting for a task");
        _meter.CreateObservableGauge(MetricNames.QueueOldestReadyAge, () => Observe(s => s.OldestReadyAgeMs / 1000.0), MetricNames.UnitSeconds,
            "Age of the oldest task at the head of the ready line (highest priority first), since it was enqueued; 0 when none is ready");
        _meter.CreateObservableUpDownCounter(MetricNames.QueueLabelled, () => (long)Queues.Collect().Count(s => !s.IsOther), MetricNames.UnitQueues,
            "Queues reported under their own label on this node (at most the configured limit; the rest are queue=\"_other\")");
        Counter(MetricNames.TasksEnqueued, PartitionCounter.Enqueued, "Tasks enqueued (durable)");
        _meter.CreateObservableCounter(MetricNames.TasksDispatched, () => Queues.Collect().SelectMany(s => new[]
            {
                new Measurement<long>(s.Totals[(int)PartitionCounter.DispatchedSync], [.. s.Tags, SyncMatch]),
                new Measurement<long>(s.Totals[(int)PartitionCounter.DispatchedBacklog], [.. s.Tags, BacklogMatch]),
            }), MetricNames.UnitTasks,
            "Deliveries to workers: match=sync when a poller was already waiting as the task became durable, match=backlog otherwise");
        Counter(MetricNames.TasksCompleted, PartitionCounter.Completed, "Tasks completed (durable)");
        Counter(MetricNames.TasksFailed, PartitionCounter.Failed, "Failures reported by workers");
        Counter(MetricNames.TasksRetried, PartitionCounter.Retried, "Deliveries that failed or expired and will be retried after a backoff");
        Counter(MetricNames.TasksDeadLettered, PartitionCounter.DeadLettered, "Tasks moved to the dead-letter list (attempts used up, or not retryable)");
        Counter(MetricNames.TasksLeaseExpired, PartitionCounter.LeaseExpired, "Leases that ran out without a heartbeat, complete or fail");
    }

    private void Gauge(string name, PartitionGauge gauge, string unit, string description) =>
        _meter.CreateObservableUpDownCounter(name, () => Observe(s => s.Gauges[(int)gauge]), unit, description);

    private void Counter(string name, PartitionCounter counter, string description) =>
        _meter.CreateObservableCounter(name, () => Observe(s => s.Totals[(int)counter]), MetricNames.UnitTasks, description);

    private IEnumerable<Measurement<T>> Observe<T>(Func<QueueSeries, T> value) where T : struct
    {
        var series = Queues.Collect();
        var measurements = new Measurement<T>[series.Count];
        for (var i = 0; i < series.Count; i++) measurements[i] = new Measurement<T>(value(series[i]), series[i].Tags);
        return measurements;
    }

    /// <summary>The node's client endpoint, once it runs (its port's connection figures).</summary>
    internal void AttachClientEndpoint(ActorSystem endpoint) => _clientEndpoint = endpoint;

    private IEnumerable<Measurement<long>> ObserveConnections(Func<(ConnectionFigures Figures, KeyValuePair<string, object?> Port), Measurement<long>[]> measure)
    {
        var measurements = new List<Measurement<long>>();
        foreach (var (system, port) in new[] { (_clientEndpoint, ClientPort), (_system, ClusterPort) })
        {
            if (system is not { WhenTerminated.IsCompleted: false }) continue;
            foreach (var figures in ConnectionGates.Of(system).Figures()) measurements.AddRange(measure((figures, port)));
        }
        return measurements;
    }

    private static readonly MemberStatus[] Statuses = Enum.GetValues<MemberStatus>();

    private IEnumerable<Measurement<long>> ObserveMembers()
    {
        if (_system is not { WhenTerminated.IsCompleted: false } system) return [];
        var members = Cluster.Get(system).State.Members;
        return Statuses.Select(status => new Measurement<long>(members.Count(m => m.Status == status),
            new KeyValuePair<string, object?>(MetricNames.Status, status.ToString().ToLowerInvariant())));
    }

    public void Dispose() => _meter.Dispose();
}
