using Conduit.Server.Configuration;

namespace Conduit.Server.Metrics;

/// <summary>
/// The node's metrics: what leaves the process and how many label values it may carry. The Prometheus scrape endpoint
/// (<c>/metrics</c>) is on whenever the node's HTTP listener is (<see cref="Http.NodeHttpOptions"/>); see docs/metrics.md.
/// </summary>
public sealed record MetricsOptions
{
    public const int DefaultMaxQueueLabels = 200;
    /// <summary>Above the OpenTelemetry SDK's own limit of 2,000 series per metric a metric would start to drop series.</summary>
    public const int MaxMaxQueueLabels = 1000;

    /// <summary>
    /// Most queues a node reports under their own <c>namespace</c>/<c>queue</c> labels; the rest are summed into one
    /// <c>queue="_other"</c> series, so a metric has at most this many + 1 series per node however many queues there are.
    /// The labels go to the largest queues (backlog, then activity) when a slot is free and stay with a queue while it runs
    /// on the node (docs/metrics.md, "Cardinality"). 0 folds every queue into <c>_other</c>. Defaults to 200; at most 1,000.
    /// </summary>
    [Flag("--metrics-queue-labels", "N", "most queues with labels of their own in the metrics; the rest are summed as queue=\"_other\" (0..1000)"),
     DeprecatedEnvironmentName("CONDUIT_METRICS_QUEUE_LABELS")]
    public int MaxQueueLabels { get; init; } = DefaultMaxQueueLabels;

    /// <summary>
    /// An OTLP endpoint (gRPC, e.g. <c>http://collector:4317</c>) the node pushes its metrics to every
    /// <see cref="OtlpExportIntervalMs"/> (<c>--otlp-endpoint</c>, <c>CONDUIT_OTLP_ENDPOINT</c>). Defaults to none: no push.
    /// </summary>
    [Flag("--otlp-endpoint", "URL", "also push metrics over OTLP/gRPC, e.g. http://collector:4317"), DeprecatedEnvironmentName("CONDUIT_OTLP_ENDPOINT")]
    public Uri? OtlpEndpoint { get; init; }

    /// <summary>How often metrics are pushed to <see cref="OtlpEndpoint"/>. Defaults to 15,000 ms.</summary>
    public int OtlpExportIntervalMs { get; init; } = 15_000;

    /// <summary>
    /// .NET's own runtime meter (<c>System.Runtime</c>: GC, thread pool, CPU, memory) beside Conduit's. Defaults to true;
    /// it costs nothing until scraped.
    /// </summary>
    public bool RuntimeMetrics { get; init; } = true;

    /// <summary>Throws when an option is out of range (checked when the node's options are read).</summary>
    public void Validate()
    {
        if (MaxQueueLabels is < 0 or > MaxMaxQueueLabels)
            throw new ArgumentOutOfRangeException(nameof(MaxQueueLabels), MaxQueueLabels, $"the queue label limit must be 0..{MaxMaxQueueLabels}");
        if (OtlpEndpoint is { } uri && uri.Scheme is not ("http" or "https"))
            throw new ArgumentException($"the OTLP endpoint must be an http:// or https:// URL, not '{uri}'", nameof(OtlpEndpoint));
        if (OtlpExportIntervalMs < 1000)
            throw new ArgumentOutOfRangeException(nameof(OtlpExportIntervalMs), OtlpExportIntervalMs, "the OTLP export interval must be at least 1000 ms");
    }
}
