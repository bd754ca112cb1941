namespace Conduit.Server.Frontend;

/// <summary>
/// Which partition a keyed task goes to, the same on every node: its concurrency key fixes it (every task of a key
/// in one partition, which enforces the per-key limit whole), else its idempotency key (a repeat finds the original).
/// A task with neither is placed by load. A repeated enqueue repeats both keys, so it still finds its original.
/// </summary>
internal static class KeyRouting
{
    /// <summary>The partition of <paramref name="task"/> among <paramref name="partitions"/>, or null when it has no key.</summary>
    public static int? PartitionOf(TaskSpec? task, int partitions) =>
        (task?.ConcurrencyKey ?? task?.IdempotencyKey) is { } key ? (int)(StableHash.Of(key) % (uint)Math.Max(1, partitions)) : null;
}
