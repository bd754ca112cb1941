namespace Conduit.Server.Matching;

/// <summary>
/// One partition's share of its queue's dispatch limits (docs/limits.md): a token bucket for the rate and a cap on
/// leased tasks. A queue of N partitions gives each 1/N of the rate and of the burst (at least one second's worth of its
/// rate, and at least one task), and splits
/// the running limit as evenly as whole tasks allow (partition i gets one more while i is below the remainder; never
/// less than one, so no partition strands its tasks). The queue's limits, not the share, are what the journal and
/// <see cref="QueueStats"/> hold, so a share follows the partition count in force where the partition runs.
/// </summary>
internal sealed class DispatchLimits
{
    /// <summary>Tokens a millisecond; 0: no rate limit.</summary>
    private double _perMs;
    private double _burst;
    private double _tokens;
    private long _refilledAtMs;

    /// <summary>The whole queue's limits.</summary>
    public QueueLimits Queue { get; private set; } = QueueLimits.None;

    /// <summary>This partition's share of the running limit; 0: none.</summary>
    public int MaxRunning { get; private set; }

    /// <summary>This partition's share of the rate, in tasks a second; 0: none.</summary>
    public double RatePerSecond => _perMs * 1000;

    /// <summary>This partition's share of the burst: how many tasks may go at once after a quiet spell.</summary>
    public double Burst => _burst;

    public bool RateLimited => _perMs > 0;

    /// <summary>Puts <paramref name="limits"/> (the queue's) in force for partition <paramref name="index"/> of <paramref name="partitions"/>.</summary>
    public void Set(QueueLimits? limits, int index, int partitions, long nowMs)
    {
        limits ??= QueueLimits.None;
        partitions = Math.Max(1, partitions);
        var wasLimited = RateLimited;
        if (wasLimited) Refill(nowMs); // what the old rate earned so far is kept
        Queue = limits;
        _perMs = limits.RatePerSecond > 0 ? limits.RatePerSecond / partitions / 1000.0 : 0;
        // At least one second's worth of the share: a frontend's poll probes the busiest partitions one at a time (up to
        // 200 ms each), so a partition may go that long without a poller; a smaller bucket would lose what it refills
        // meanwhile, and a queue of several partitions would run well below its rate (26 of 40/s with 4 partitions).
        _burst = _perMs > 0 ? Math.Max(Math.Max(1, _perMs * 1000), limits.EffectiveBurst / partitions) : 0;
        // A new rate starts with a full bucket; a changed one keeps what is left (no more than the new burst).
        _tokens = wasLimited ? Math.Min(_tokens, _burst) : _burst;
        _refilledAtMs = nowMs;
        MaxRunning = limits.MaxRunning > 0
            ? Math.Max(1, limits.MaxRunning / partitions + (index % partitions < limits.MaxRunning % partitions ? 1 : 0))
            : 0;
    }

    /// <summary>How many tasks may be handed out now, with <paramref name="running"/> leased; <see cref="int.MaxValue"/> without limits.</summary>
    public int Allowance(long nowMs, int running)
    {
        var allow = MaxRunning > 0 ? Math.Max(0, MaxRunning - running) : int.MaxValue;
        if (!RateLimited) return allow;
        Refill(nowMs);
        return (int)Math.Min(allow, Math.Floor(_tokens));
    }

    /// <summary><paramref name="count"/> tasks were handed out (within <see cref="Allowance"/>).</summary>
    public void Took(int count)
    {
        if (RateLimited) _tokens = Math.Max(0, _tokens - count);
    }

    /// <summary>
    /// <paramref name="count"/> tasks handed out were given back undelivered (a frontend's poll was answered by another
    /// partition): their tokens count again, so a queue of several partitions is not held below its rate by polls that
    /// waited on all of them.
    /// </summary>
    public void Refund(int count)
    {
        if (RateLimited) _tokens = Math.Min(_burst, _tokens + count);
    }

    private void Refill(long nowMs)
    {
        if (nowMs > _refilledAtMs) _tokens = Math.Min(_burst, _tokens + (nowMs - _refilledAtMs) * _perMs);
        _refilledAtMs = Math.Max(_refilledAtMs, nowMs); // a clock that steps back refills nothing
    }
}
