namespace Conduit.Client;

/// <summary>
/// How the client backs off when a node answers <see cref="ErrorCode.Overloaded"/> (<see cref="ConduitClientOptions.OverloadBackoff"/>).
/// After such an answer, further requests of the same kind (enqueues to that queue; everything but polls) wait before
/// they are sent: <see cref="InitialDelay"/>, doubled on each further Overloaded in a row up to <see cref="MaxDelay"/>,
/// with jitter (a random delay between half and all of it); an answer that is not Overloaded ends the backoff.
/// A request refused with Overloaded changed nothing, so the client resends it by itself after the delay (at most
/// <see cref="MaxRetries"/> times, and never past the request's timeout), except an enqueue or batch with a task that has no
/// idempotency key: that one throws <see cref="OverloadedException"/> for the caller to decide (the next enqueue still
/// waits for the backoff). A poll is neither held back nor resent (its wait is part of its timeout): a
/// <c>ConduitWorker</c> pauses after a refused poll itself.
/// </summary>
public sealed class OverloadBackoffOptions
{
    public static readonly TimeSpan DefaultInitialDelay = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan DefaultMaxDelay = TimeSpan.FromSeconds(5);
    public const int DefaultMaxRetries = 8;

    /// <summary>The first backoff after an Overloaded answer. Defaults to 100 ms.</summary>
    public TimeSpan InitialDelay { get; set; } = DefaultInitialDelay;

    /// <summary>The longest backoff. Defaults to 5 s.</summary>
    public TimeSpan MaxDelay { get; set; } = DefaultMaxDelay;

    /// <summary>
    /// How many times one request is resent after Overloaded before <see cref="OverloadedException"/> is thrown; 0 turns
    /// resending off (the backoff before later requests stays). Defaults to 8.
    /// </summary>
    public int MaxRetries { get; set; } = DefaultMaxRetries;

    internal void Validate()
    {
        if (InitialDelay <= TimeSpan.Zero) throw new ArgumentException("must be positive", nameof(InitialDelay));
        if (MaxDelay < InitialDelay) throw new ArgumentException("must be at least InitialDelay", nameof(MaxDelay));
        if (MaxRetries < 0) throw new ArgumentException("must not be negative", nameof(MaxRetries));
    }
}
