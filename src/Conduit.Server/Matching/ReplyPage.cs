namespace Conduit.Server.Matching;

/// <summary>A page of a listing that fits one reply: at most a count of items, and at most <see cref="WireLimits.MaxReplyBytes"/>.</summary>
internal static class ReplyPage
{
    /// <summary>Takes items in order while both limits hold (<paramref name="wireBytes"/>: what one takes in a reply); whether any were left.</summary>
    public static (T[] Items, bool More) Take<T>(IEnumerable<T> ordered, int limit, Func<T, int> wireBytes)
    {
        var items = new List<T>();
        long bytes = 0;
        foreach (var item in ordered)
        {
            var size = wireBytes(item);
            if (items.Count >= limit || bytes + size > WireLimits.MaxReplyBytes) return (items.ToArray(), true);
            bytes += size;
            items.Add(item);
        }
        return (items.ToArray(), false);
    }
}
