namespace Conduit.Server.Matching;

/// <summary>One page of dead letters: at most a count and at most what fits in one reply.</summary>
internal static class DeadLetterPage
{
    /// <summary>Takes dead letters in order while both limits hold; <c>More</c> when any were left.</summary>
    public static (DeadLetter[] Items, bool More) Take(IEnumerable<DeadLetter> ordered, int limit)
    {
        var items = new List<DeadLetter>();
        long bytes = 0;
        foreach (var item in ordered)
        {
            if (items.Count >= limit || bytes + item.WireBytes > WireLimits.MaxReplyBytes) return (items.ToArray(), true);
            bytes += item.WireBytes;
            items.Add(item);
        }
        return (items.ToArray(), false);
    }
}
