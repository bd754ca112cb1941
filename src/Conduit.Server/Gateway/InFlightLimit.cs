namespace Conduit.Server.Gateway;

/// <summary>
/// The requests one gateway has asked of the cluster and not yet had answered, counted by kind against the bounds of
/// <see cref="GatewayOptions"/>. Taken by the gateway actor, given back by the ask's continuation (another thread), so
/// the counts are interlocked.
/// </summary>
internal sealed class InFlightLimit(GatewayOptions options)
{
    /// <summary>Which bound a request counts against.</summary>
    public enum Kind
    {
        Enqueue,
        Poll,
        Other,
    }

    private readonly int[] _counts = new int[3];

    public static Kind KindOf(object request) => request switch
    {
        Enqueue or EnqueueBatch => Kind.Enqueue,
        Poll => Kind.Poll,
        _ => Kind.Other,
    };

    public int Bound(Kind kind) => kind switch
    {
        Kind.Enqueue => options.MaxEnqueuesInFlight,
        Kind.Poll => options.MaxPollsInFlight,
        _ => options.MaxOtherRequestsInFlight,
    };

    public int InFlight(Kind kind) => Volatile.Read(ref _counts[(int)kind]);

    /// <summary>Takes a place for a request of <paramref name="kind"/>; false (and nothing taken) when its bound is reached.</summary>
    public bool TryTake(Kind kind)
    {
        if (Interlocked.Increment(ref _counts[(int)kind]) <= Bound(kind)) return true;
        Interlocked.Decrement(ref _counts[(int)kind]);
        return false;
    }

    public void Give(Kind kind) => Interlocked.Decrement(ref _counts[(int)kind]);

    /// <summary>The refusal for a request past its bound.</summary>
    public Rejected Refusal(Kind kind) => new(ErrorCode.Overloaded, kind switch
    {
        Kind.Enqueue => $"this node has {Bound(kind)} enqueues in flight, its limit; retry after a backoff",
        Kind.Poll => $"this node has {Bound(kind)} polls waiting, its limit; retry after a backoff",
        _ => $"this node has {Bound(kind)} requests in flight, its limit; retry after a backoff",
    });
}
