namespace Conduit.Server.History;

/// <summary>The task history (docs/results.md): how long it keeps a task after its last change, and how often it trims.</summary>
public sealed record TaskHistoryOptions
{
    /// <summary>24 hours, as Hangfire keeps succeeded jobs.</summary>
    public const long DefaultRetentionMs = 24L * 3600 * 1000;

    /// <summary>
    /// How long a task's payload, result and attempts are kept after its last change (its settlement, for a settled task).
    /// 0 turns the history off: nothing is written, <see cref="GetTask"/> answers without details. Defaults to 24 h.
    /// </summary>
    public long RetentionMs { get; init; } = DefaultRetentionMs;

    /// <summary>How often each task-service node deletes what is older than the retention. Defaults to 1 min.</summary>
    public long TrimIntervalMs { get; init; } = 60_000;

    /// <summary>
    /// How long changes nobody waits for (a delivery started) may wait for company before they are written: a task that
    /// ends within it is written once (started and finished in one row insert) instead of twice. Defaults to 500 ms.
    /// </summary>
    public long LingerMs { get; init; } = 500;

    /// <summary>A failed write is tried again after this long, up to <see cref="History.TaskHistoryActor.MaxWriteTries"/> times. Defaults to 1 s.</summary>
    public long RetryIntervalMs { get; init; } = 1_000;

    public bool Enabled => RetentionMs > 0;
}
