namespace Conduit.Client;

/// <summary>
/// The client's backoff after <see cref="ErrorCode.Overloaded"/> answers, per lane: enqueues to one queue, polls, and
/// everything else each have their own (<see cref="LaneOf"/>; polls none), so a queue under a storm does not slow completes. Exponential
/// with jitter, bounded by <see cref="OverloadBackoffOptions"/>. Thread-safe.
/// </summary>
internal sealed class OverloadBackoff(OverloadBackoffOptions options, Func<long>? nowMs = null, Random? random = null)
{
    private readonly object _gate = new();
    private readonly Dictionary<string, Lane> _lanes = new(StringComparer.Ordinal);
    /// <summary>Lanes backing off (the table's size, readable without the lock): every request checks it, almost always 0.</summary>
    private int _backingOff;
    private readonly Func<long> _now = nowMs ?? (() => Environment.TickCount64);
    private readonly Random _random = random ?? Random.Shared;

    private sealed class Lane
    {
        public int InARow;
        public long OpenAtMs;
    }

    public OverloadBackoffOptions Options => options;

    /// <summary>
    /// The lane of a request: enqueues by namespace and queue, or the rest; null for a poll, whose wait is part of its
    /// timeout, so it is neither held back nor resent here (a worker backs off after a refused poll itself).
    /// </summary>
    public static string? LaneOf(object request) => request switch
    {
        Enqueue e => $"enqueue {e.Namespace}/{e.Queue}",
        EnqueueBatch b => $"enqueue {b.Namespace}/{b.Queue}",
        Poll => null,
        _ => "other",
    };

    /// <summary>
    /// Whether the client may resend <paramref name="request"/> after Overloaded by itself: everything but an enqueue with
    /// a task that has no idempotency key. (A refused request changed nothing; the key makes even an unforeseen repeat
    /// harmless, and without one the caller decides.)
    /// </summary>
    public static bool MayResend(object request) => request switch
    {
        Enqueue e => e.Task?.IdempotencyKey is not null,
        EnqueueBatch b => b.Tasks is { Length: > 0 } tasks && tasks.All(t => t?.IdempotencyKey is not null),
        Poll => false,
        _ => true,
    };

    /// <summary>How long a request of <paramref name="lane"/> should wait before it is sent (zero when it need not).</summary>
    public TimeSpan WaitBefore(string? lane)
    {
        if (lane is null || Volatile.Read(ref _backingOff) == 0) return TimeSpan.Zero;
        lock (_gate)
        {
            if (!_lanes.TryGetValue(lane, out var state)) return TimeSpan.Zero;
            var ms = state.OpenAtMs - _now();
            return ms > 0 ? TimeSpan.FromMilliseconds(ms) : TimeSpan.Zero;
        }
    }

    /// <summary>An Overloaded answer on <paramref name="lane"/>: backs the lane off further; returns the delay.</summary>
    public TimeSpan Overloaded(string? lane)
    {
        if (lane is null) return TimeSpan.Zero;
        lock (_gate)
        {
            if (!_lanes.TryGetValue(lane, out var state))
            {
                _lanes[lane] = state = new Lane();
                Volatile.Write(ref _backingOff, _lanes.Count);
            }
            var exponent = Math.Min(state.InARow, 30);
            state.InARow++;
            var full = Math.Min(options.MaxDelay.TotalMilliseconds, options.InitialDelay.TotalMilliseconds * Math.Pow(2, exponent));
            var delay = full / 2 + _random.NextDouble() * full / 2;
            state.OpenAtMs = Math.Max(state.OpenAtMs, _now() + (long)Math.Ceiling(delay));
            return TimeSpan.FromMilliseconds(delay);
        }
    }

    /// <summary>Any other answer on <paramref name="lane"/>: the node coped, so the next Overloaded starts from the first delay again.</summary>
    public void Answered(string? lane)
    {
        if (lane is null || Volatile.Read(ref _backingOff) == 0) return;
        lock (_gate)
        {
            if (_lanes.TryGetValue(lane, out var state) && state.OpenAtMs <= _now())
            {
                _lanes.Remove(lane);
                Volatile.Write(ref _backingOff, _lanes.Count);
            }
        }
    }
}
