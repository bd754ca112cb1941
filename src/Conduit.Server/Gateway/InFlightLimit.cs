namespace Conduit.Server.Gateway;

/// <summary>
/// The requests one gateway has asked of the cluster and not yet had answered, counted by kind against the bounds of
/// <see cref="GatewayOptions"/>. Enqueues have an adaptive bound (additive increase, multiplicative decrease, as TCP
/// Vegas and Netflix's concurrency limits do): each enqueue answered within <see cref="GatewayOptions.EnqueueLatencyTarget"/>
/// raises it by one, up to <see cref="GatewayOptions.MaxEnqueuesInFlight"/>; an answer slower than the target halves it,
/// at most once per target period, down to <see cref="GatewayOptions.MinEnqueuesInFlight"/>. So about as many enqueues are
/// inside as the cluster makes durable within the target, whatever the storage's speed. Taken by the gateway actor, given
/// back by the ask's continuation (another thread): everything here is thread-safe.
/// </summary>
internal sealed class InFlightLimit
{
    /// <summary>Which bound a request counts against.</summary>
    public enum Kind
    {
        Enqueue,
        Poll,
        Other,
    }

    private readonly GatewayOptions _options;
    private readonly Func<long> _now;
    private readonly int[] _counts = new int[3];
    private readonly object _enqueueGate = new();
    private readonly long _targetMs;
    private double _enqueueLimit;
    private long _lastDecreaseMs = long.MinValue;
    private long _lastSlowMs;

    public InFlightLimit(GatewayOptions options, Func<long>? nowMs = null)
    {
        _options = options;
        _now = nowMs ?? (() => Environment.TickCount64);
        _targetMs = Math.Max(1, (long)options.EnqueueLatencyTarget.TotalMilliseconds);
        _enqueueLimit = Math.Clamp(options.InitialEnqueuesInFlight, options.MinEnqueuesInFlight, options.MaxEnqueuesInFlight);
    }

    public static Kind KindOf(object request) => request switch
    {
        Enqueue or EnqueueBatch => Kind.Enqueue,
        Poll => Kind.Poll,
        _ => Kind.Other,
    };

    /// <summary>The bound of <paramref name="kind"/> now (for enqueues, the adaptive one).</summary>
    public int Bound(Kind kind) => kind switch
    {
        Kind.Enqueue => EnqueueLimit,
        Kind.Poll => _options.MaxPollsInFlight,
        _ => _options.MaxOtherRequestsInFlight,
    };

    /// <summary>How many enqueues are let into the cluster at once now.</summary>
    public int EnqueueLimit
    {
        get
        {
            lock (_enqueueGate) return (int)_enqueueLimit;
        }
    }

    public int InFlight(Kind kind) => Volatile.Read(ref _counts[(int)kind]);

    /// <summary>
    /// Takes a place for a request of <paramref name="kind"/> and returns when it was taken (for <see cref="Give"/>), or
    /// -1 (nothing taken) when its bound is reached and the request must be refused.
    /// </summary>
    public long TryTake(Kind kind)
    {
        var bound = Bound(kind);
        if (Interlocked.Increment(ref _counts[(int)kind]) <= bound) return _now();
        Interlocked.Decrement(ref _counts[(int)kind]);
        return -1;
    }

    /// <summary>The request taken at <paramref name="takenAtMs"/> was answered (or given up on).</summary>
    public void Give(Kind kind, long takenAtMs)
    {
        Interlocked.Decrement(ref _counts[(int)kind]);
        if (kind != Kind.Enqueue) return;
        var now = _now();
        var took = now - takenAtMs;
        lock (_enqueueGate)
        {
            if (took <= _targetMs)
            {
                _enqueueLimit = Math.Min(_options.MaxEnqueuesInFlight, _enqueueLimit + 1);
                return;
            }
            _lastSlowMs = took;
            if (_lastDecreaseMs != long.MinValue && now - _lastDecreaseMs < _targetMs) return;
            _lastDecreaseMs = now;
            _enqueueLimit = Math.Max(_options.MinEnqueuesInFlight, _enqueueLimit / 2);
        }
    }

    /// <summary>The refusal for a request that <see cref="TryTake"/> refused.</summary>
    public Rejected Refusal(Kind kind) => new(ErrorCode.Overloaded, kind switch
    {
        Kind.Enqueue => $"this node lets {Bound(kind)} enqueues into the cluster at once now, and they are all there (the slowest " +
                        $"lately took {Volatile.Read(ref _lastSlowMs) / 1000.0:0.0} s, the target is {_options.EnqueueLatencyTarget.TotalSeconds:0.#} s); retry after a backoff",
        Kind.Poll => $"this node has {Bound(kind)} polls waiting, its limit; retry after a backoff",
        _ => $"this node has {Bound(kind)} requests in flight, its limit; retry after a backoff",
    });
}
