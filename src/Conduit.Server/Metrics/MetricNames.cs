namespace Conduit.Server.Metrics;

/// <summary>
/// Every name, unit and label of the <c>Conduit.Server</c> meter, in one place (docs/metrics.md lists them with their
/// meaning). Names follow OpenTelemetry's semantic-convention style (dotted, lower case, the unit not in the name); the
/// Prometheus exporter turns <c>conduit.tasks.enqueued</c> into <c>conduit_tasks_enqueued_total</c> and
/// <c>conduit.journal.write.duration</c> (unit s) into <c>conduit_journal_write_duration_seconds</c>.
/// </summary>
public static class MetricNames
{
    /// <summary>The server's meter. Add it to an OpenTelemetry setup with <c>.AddMeter(MetricNames.MeterName)</c>.</summary>
    public const string MeterName = "Conduit.Server";

    // ---- per queue (labels: namespace, queue; folded per MetricsOptions.MaxQueueLabels) ----
    public const string QueueReady = "conduit.queue.ready";
    public const string QueueDelayed = "conduit.queue.delayed";
    public const string QueueRunning = "conduit.queue.running";
    public const string QueueDeadLettered = "conduit.queue.dead_lettered";
    public const string QueuePollers = "conduit.queue.pollers";
    public const string QueueOldestReadyAge = "conduit.queue.oldest_ready.age";
    public const string QueueLabelled = "conduit.queue.labelled";
    public const string TasksEnqueued = "conduit.tasks.enqueued";
    /// <summary>Label <see cref="Match"/>: <c>sync</c> (handed to a poller that was already waiting when the task became durable) or <c>backlog</c>.</summary>
    public const string TasksDispatched = "conduit.tasks.dispatched";
    public const string TasksCompleted = "conduit.tasks.completed";
    public const string TasksFailed = "conduit.tasks.failed";
    public const string TasksRetried = "conduit.tasks.retried";
    public const string TasksDeadLettered = "conduit.tasks.dead_lettered";
    public const string TasksLeaseExpired = "conduit.tasks.lease_expired";

    // ---- per node ----
    public const string ScheduleToStart = "conduit.task.schedule_to_start";
    public const string RunDuration = "conduit.task.run.duration";
    public const string WriteBatchSize = "conduit.journal.write.batch_size";
    public const string WriteDuration = "conduit.journal.write.duration";
    public const string PageIns = "conduit.journal.page_ins";
    public const string RequestsRefused = "conduit.requests.refused";
    public const string NodePartitions = "conduit.node.partitions";
    public const string ClusterMembers = "conduit.cluster.members";
    /// <summary>Label <see cref="Port"/>: <c>client</c> or <c>cluster</c>.</summary>
    public const string ConnectionsOpen = "conduit.connections.open";
    /// <summary>Labels <see cref="Port"/> and <see cref="Reason"/>: <c>port_full</c> or <c>address_full</c>.</summary>
    public const string ConnectionsRefused = "conduit.connections.refused";

    // ---- units (UCUM, as OpenTelemetry's conventions write them) ----
    public const string UnitTasks = "{task}";
    public const string UnitPollers = "{poller}";
    public const string UnitQueues = "{queue}";
    public const string UnitEntries = "{entry}";
    public const string UnitReads = "{read}";
    public const string UnitRequests = "{request}";
    public const string UnitPartitions = "{partition}";
    public const string UnitNodes = "{node}";
    public const string UnitConnections = "{connection}";
    public const string UnitSeconds = "s";

    // ---- labels ----
    public const string Namespace = "namespace";
    public const string Queue = "queue";
    public const string Match = "match";
    public const string Reason = "reason";
    public const string Source = "source";
    public const string Kind = "kind";
    public const string Status = "status";
    public const string Port = "port";

    /// <summary>The <see cref="Queue"/> and <see cref="Namespace"/> value of every queue beyond the labelled ones.</summary>
    public const string OtherQueues = "_other";
}
