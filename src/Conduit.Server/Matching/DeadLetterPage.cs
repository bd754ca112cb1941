namespace Conduit.Server.Matching;

/// <summary>One page of dead letters: at most a count and at most what fits in one reply.</summary>
internal static class DeadLetterPage
{
    /// <summary>Takes dead letters in order while both limits hold; <c>More</c> when any were left.</summary>
    public static (DeadLetter[] Items, bool More) Take(IEnumerable<DeadLetter> ordered, int limit) =>
        ReplyPage.Take(ordered, limit, d => d.WireBytes);

    /// <summary>
    /// Merges the first pages of several partitions (each after the same cursor): the first items of all, in order,
    /// within both limits, and never past the end of a partition's page that was cut: what that partition left out may
    /// come before another partition's later items, and the next cursor would skip it.
    /// </summary>
    public static DeadLetters Merge(ListDeadLetters list, IReadOnlyList<DeadLetters> pages)
    {
        var cuts = pages.Where(p => p.More && p.Items.Length > 0).Select(p => p.Items[^1]).ToList();
        var upTo = cuts.Count == 0 ? null : cuts.Min(DeadLetter.Order);
        var ordered = pages.SelectMany(p => p.Items).Order(DeadLetter.Order).ToList();
        var safe = upTo is null ? ordered : ordered.TakeWhile(d => DeadLetter.Order.Compare(d, upTo) <= 0).ToList();
        var (items, more) = Take(safe, list.Limit);
        return new DeadLetters(list.Queue, items, more || safe.Count < ordered.Count || pages.Any(p => p.More), NamespaceName.OrDefault(list.Namespace));
    }
}
