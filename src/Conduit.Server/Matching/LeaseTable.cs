namespace Conduit.Server.Matching;

/// <summary>One delivery of a task to a worker.</summary>
internal sealed class Lease
{
    public required long Seq { get; init; }
    /// <summary>Delivery number, 1 for the first.</summary>
    public required int Attempt { get; init; }
    public required int MaxAttempts { get; init; }
    public required long EnqueuedAtMs { get; init; }
    public required long LeaseMs { get; init; }
    /// <summary>The token's nonce, from the cryptographic generator; recovered from the dispatch hint after a failover.</summary>
    public required long Nonce { get; init; }
    /// <summary>The epoch of the owner that handed the task out, as it is in the token.</summary>
    public required long Epoch { get; init; }
    public long ExpiresAtMs { get; set; }
    /// <summary>When this delivery was handed out (for its run time); 0 for a lease recovered after a failover, whose start is unknown.</summary>
    public long LeasedAtMs { get; init; }
    public bool CancelRequested { get; set; }
    /// <summary>The task's concurrency key: the delivery counts against it until it ends (see <see cref="LeaseTable.RunningWithKey"/>).</summary>
    public string? ConcurrencyKey { get; init; }
    /// <summary>The worker that took it, as it named itself (<see cref="Poll.Worker"/>); null when it did not, or after a failover.</summary>
    public string? Worker { get; init; }

    /// <summary>Whether <paramref name="token"/> names exactly this delivery (its MAC is checked before).</summary>
    public bool IsNamedBy(LeaseToken token) => token.Attempt == Attempt && token.Epoch == Epoch && token.Nonce == Nonce;
}

/// <summary>The tasks handed out and not yet completed, failed or expired, and how many of them each concurrency key has.</summary>
internal sealed class LeaseTable
{
    /// <summary>Made for the first lease, let go by <see cref="Release"/> when the partition goes idle.</summary>
    private Dictionary<long, Lease>? _bySeq;
    /// <summary>Running leases per concurrency key; made for the first key (most queues use none).</summary>
    private Dictionary<string, int>? _byKey;
    /// <summary>Keys a lease of which ended since <see cref="TakeEndedKeys"/> was last called.</summary>
    private HashSet<string>? _ended;

    public int Count => _bySeq?.Count ?? 0;
    public IEnumerable<Lease> All => _bySeq?.Values ?? Enumerable.Empty<Lease>();

    /// <summary>Leases held now by tasks with concurrency key <paramref name="key"/>.</summary>
    public int RunningWithKey(string key) => _byKey?.GetValueOrDefault(key) ?? 0;

    public void Add(Lease lease)
    {
        Remove(lease.Seq);
        (_bySeq ??= new())[lease.Seq] = lease;
        if (lease.ConcurrencyKey is { } key)
        {
            _byKey ??= new(StringComparer.Ordinal);
            _byKey[key] = _byKey.GetValueOrDefault(key) + 1;
        }
    }

    public bool TryGet(long seq, out Lease lease)
    {
        lease = null!;
        return _bySeq?.TryGetValue(seq, out lease!) == true;
    }

    public bool Contains(long seq) => _bySeq?.ContainsKey(seq) == true;

    public bool Remove(long seq)
    {
        if (_bySeq is null || !_bySeq.Remove(seq, out var lease)) return false;
        if (lease.ConcurrencyKey is { } key)
        {
            if (_byKey![key] <= 1) _byKey.Remove(key);
            else _byKey[key]--;
            (_ended ??= new(StringComparer.Ordinal)).Add(key);
        }
        return true;
    }

    public bool HasEndedKeys => _ended is not null;

    /// <summary>The concurrency keys that lost a lease since the last call (tasks waiting for them may go now), or null.</summary>
    public HashSet<string>? TakeEndedKeys()
    {
        var ended = _ended;
        _ended = null;
        return ended;
    }

    public List<Lease> TakeExpired(long nowMs)
    {
        List<Lease>? expired = null;
        if (_bySeq is null) return [];
        foreach (var lease in _bySeq.Values)
            if (lease.ExpiresAtMs <= nowMs) (expired ??= []).Add(lease);
        if (expired is null) return [];
        foreach (var lease in expired) Remove(lease.Seq);
        return expired;
    }

    /// <summary>
    /// The partition went idle: with no lease left, the table lets go of its storage (a drained partition would
    /// otherwise keep room for the most leases it ever held).
    /// </summary>
    public void Release()
    {
        if (_bySeq is { Count: 0 }) _bySeq = null;
    }

    /// <summary>Whether the table holds storage for leases (tests).</summary>
    internal bool HoldsStorage => _bySeq is not null;
}
