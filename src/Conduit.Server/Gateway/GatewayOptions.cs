namespace Conduit.Server.Gateway;

/// <summary>
/// How many requests a node's client endpoint lets into the cluster at once (backpressure at the edge). Enqueues have an
/// adaptive bound, about as many as the cluster makes durable within <see cref="EnqueueLatencyTarget"/> (between
/// <see cref="MinEnqueuesInFlight"/> and <see cref="MaxEnqueuesInFlight"/>); past it new ones are answered
/// <see cref="ErrorCode.Overloaded"/> at once, without reaching the cluster. Polls and the other requests have bounds of
/// their own, so a storm of enqueues fills only its own: polls, completes, heartbeats and fails are still let in and
/// answered while enqueues are refused, and wait behind at most about <see cref="EnqueueLatencyTarget"/> of enqueue
/// writes. A refused request changed nothing, so the client may send it again after a backoff (<c>Conduit.Client</c>
/// does, see docs/client.md). Counted per node, over all its clients.
/// </summary>
public sealed record GatewayOptions
{
    public const int DefaultMaxEnqueuesInFlight = 10_000;
    public static readonly TimeSpan DefaultEnqueueLatencyTarget = TimeSpan.FromSeconds(2);
    public const int DefaultMaxPollsInFlight = 20_000;
    public const int DefaultMaxOtherRequestsInFlight = 5_000;

    /// <summary>
    /// Enqueue and enqueue-batch requests asked of the cluster and not yet answered: the most the adaptive bound grows to.
    /// Defaults to 10,000.
    /// </summary>
    public int MaxEnqueuesInFlight { get; init; } = DefaultMaxEnqueuesInFlight;

    /// <summary>The least the adaptive bound shrinks to, so that answers keep telling when the cluster has caught up. Defaults to 16.</summary>
    public int MinEnqueuesInFlight { get; init; } = 16;

    /// <summary>Where the adaptive bound starts (it grows by one per prompt answer, so it doubles every round trip). Defaults to 64.</summary>
    public int InitialEnqueuesInFlight { get; init; } = 64;

    /// <summary>
    /// How long an enqueue may take inside the cluster (from the gateway to its durable answer). Each one answered within
    /// it lets one more in at once (up to <see cref="MaxEnqueuesInFlight"/>); a slower answer halves the bound, at most once
    /// per this period (down to <see cref="MinEnqueuesInFlight"/>). Keeps answers far within a client's timeout (30 s by
    /// default), whatever the storage's speed, and the enqueues that completes and polls wait behind to about this much
    /// work. Defaults to 2 s.
    /// </summary>
    public TimeSpan EnqueueLatencyTarget { get; init; } = DefaultEnqueueLatencyTarget;

    /// <summary>Long-polls waiting for tasks (one per waiting worker loop). Defaults to 20,000.</summary>
    public int MaxPollsInFlight { get; init; } = DefaultMaxPollsInFlight;

    /// <summary>Every other request (complete, heartbeat, fail, cancel, get, stats, administration). Defaults to 5,000.</summary>
    public int MaxOtherRequestsInFlight { get; init; } = DefaultMaxOtherRequestsInFlight;

    /// <summary>Throws when a bound is not positive.</summary>
    public void Validate()
    {
        if (MaxEnqueuesInFlight < 1) throw new ArgumentOutOfRangeException(nameof(MaxEnqueuesInFlight), MaxEnqueuesInFlight, "must be at least 1");
        if (MinEnqueuesInFlight < 1 || MinEnqueuesInFlight > MaxEnqueuesInFlight)
            throw new ArgumentOutOfRangeException(nameof(MinEnqueuesInFlight), MinEnqueuesInFlight, "must be 1 to MaxEnqueuesInFlight");
        if (InitialEnqueuesInFlight < MinEnqueuesInFlight || InitialEnqueuesInFlight > MaxEnqueuesInFlight)
            throw new ArgumentOutOfRangeException(nameof(InitialEnqueuesInFlight), InitialEnqueuesInFlight, "must be MinEnqueuesInFlight to MaxEnqueuesInFlight");
        if (EnqueueLatencyTarget <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(EnqueueLatencyTarget), EnqueueLatencyTarget, "must be positive");
        if (MaxPollsInFlight < 1) throw new ArgumentOutOfRangeException(nameof(MaxPollsInFlight), MaxPollsInFlight, "must be at least 1");
        if (MaxOtherRequestsInFlight < 1) throw new ArgumentOutOfRangeException(nameof(MaxOtherRequestsInFlight), MaxOtherRequestsInFlight, "must be at least 1");
    }
}
