namespace Conduit.Server.Gateway;

/// <summary>
/// How many requests a node's client endpoint lets into the cluster at once (backpressure at the edge). Each kind of
/// request has its own bound, so a storm of enqueues fills only its own: polls, completes, heartbeats and fails are
/// still let in and answered while enqueues are refused. A request past its bound is answered
/// <see cref="ErrorCode.Overloaded"/> at once, without reaching the cluster; it changed nothing, so the client may retry
/// it after a backoff (<c>Conduit.Client</c> does, see docs/client.md). Counted per node, over all its clients.
/// </summary>
public sealed record GatewayOptions
{
    public const int DefaultMaxEnqueuesInFlight = 1_000;
    public const int DefaultMaxPollsInFlight = 20_000;
    public const int DefaultMaxOtherRequestsInFlight = 5_000;

    /// <summary>
    /// Enqueue and enqueue-batch requests asked of the cluster and not yet answered. Each waits for a journal write, so
    /// this bounds the enqueues queued inside the cluster ahead of everything else. Defaults to 1,000.
    /// </summary>
    public int MaxEnqueuesInFlight { get; init; } = DefaultMaxEnqueuesInFlight;

    /// <summary>Long-polls waiting for tasks (one per waiting worker loop). Defaults to 20,000.</summary>
    public int MaxPollsInFlight { get; init; } = DefaultMaxPollsInFlight;

    /// <summary>Every other request (complete, heartbeat, fail, cancel, get, stats, administration). Defaults to 5,000.</summary>
    public int MaxOtherRequestsInFlight { get; init; } = DefaultMaxOtherRequestsInFlight;

    /// <summary>Throws when a bound is not positive.</summary>
    public void Validate()
    {
        if (MaxEnqueuesInFlight < 1) throw new ArgumentOutOfRangeException(nameof(MaxEnqueuesInFlight), MaxEnqueuesInFlight, "must be at least 1");
        if (MaxPollsInFlight < 1) throw new ArgumentOutOfRangeException(nameof(MaxPollsInFlight), MaxPollsInFlight, "must be at least 1");
        if (MaxOtherRequestsInFlight < 1) throw new ArgumentOutOfRangeException(nameof(MaxOtherRequestsInFlight), MaxOtherRequestsInFlight, "must be at least 1");
    }
}
