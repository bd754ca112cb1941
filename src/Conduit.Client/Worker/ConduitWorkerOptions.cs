namespace Conduit.Client.Worker;

/// <summary>How a <see cref="ConduitWorker"/> polls, leases, heartbeats and shuts down.</summary>
public sealed class ConduitWorkerOptions
{
    public const int DefaultMaxConcurrency = 4;
    public static readonly TimeSpan DefaultPollWait = TimeSpan.FromSeconds(20);
    public static readonly TimeSpan DefaultLease = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan DefaultShutdownGrace = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan DefaultPollErrorBackoff = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxPollErrorBackoff = TimeSpan.FromSeconds(30);

    /// <summary>Handlers running at once. Defaults to 4.</summary>
    public int MaxConcurrency { get; set; } = DefaultMaxConcurrency;

    /// <summary>
    /// Leases the worker may hold beyond its running handlers: tasks polled ahead that wait for a handler, and finished
    /// ones whose completion is on its way. With it the worker polls the next batch while the last one still runs and
    /// completes, and a handler that finishes takes the next task without waiting for a round trip. A prefetched task
    /// that has not started within a heartbeat interval (<see cref="HeartbeatInterval"/>) is given back, ready again at
    /// once and with no attempt used; so are those still prefetched when the worker stops. 0 turns prefetching off: the
    /// worker polls only for free handlers, once their last tasks are completed. Handlers that take longer than a
    /// heartbeat interval gain little from it (their prefetched tasks mostly go back): after tasks had to go back, the
    /// worker prefetches nothing for one <see cref="Lease"/>; consider 0 for such handlers.
    /// Defaults to null: as many as <see cref="MaxConcurrency"/>.
    /// </summary>
    public int? Prefetch { get; set; }

    /// <summary>How long one long-poll waits for work. Defaults to 20 s.</summary>
    public TimeSpan PollWait { get; set; } = DefaultPollWait;

    /// <summary>
    /// Visibility timeout asked for each task: if the worker stops heartbeating (crash, network), the task is delivered
    /// again after this long. Defaults to 30 s.
    /// </summary>
    public TimeSpan Lease { get; set; } = DefaultLease;

    /// <summary>How often a running task's lease is extended. Defaults to null: a third of <see cref="Lease"/>.</summary>
    public TimeSpan? HeartbeatInterval { get; set; }

    /// <summary>
    /// On stop, how long running handlers may take to finish before their tokens are cancelled (the host's own
    /// shutdown timeout also cuts it short). Defaults to 30 s.
    /// </summary>
    public TimeSpan ShutdownGrace { get; set; } = DefaultShutdownGrace;

    /// <summary>
    /// Pause after a failed poll (cluster unreachable, refused, <see cref="ErrorCode.Overloaded"/>); doubles on each failure
    /// up to 30 s, and each pause is a random time between half and all of it. Defaults to 1 s.
    /// </summary>
    public TimeSpan PollErrorBackoff { get; set; } = DefaultPollErrorBackoff;

    internal TimeSpan EffectiveHeartbeatInterval => HeartbeatInterval ?? Lease / 3;
    internal int EffectivePrefetch => Prefetch ?? MaxConcurrency;

    internal void Validate()
    {
        if (MaxConcurrency < 1) throw new ArgumentException("must be at least 1", nameof(MaxConcurrency));
        if (Prefetch < 0) throw new ArgumentException("must not be negative", nameof(Prefetch));
        if (PollWait < TimeSpan.Zero) throw new ArgumentException("must not be negative", nameof(PollWait));
        if (Lease < TimeSpan.FromMilliseconds(100)) throw new ArgumentException("must be at least 100 ms", nameof(Lease));
        if (EffectiveHeartbeatInterval <= TimeSpan.Zero || EffectiveHeartbeatInterval >= Lease)
            throw new ArgumentException("must be positive and shorter than the lease", nameof(HeartbeatInterval));
        if (ShutdownGrace < TimeSpan.Zero) throw new ArgumentException("must not be negative", nameof(ShutdownGrace));
        if (PollErrorBackoff <= TimeSpan.Zero) throw new ArgumentException("must be positive", nameof(PollErrorBackoff));
    }
}
