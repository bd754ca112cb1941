using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Conduit.Protocol;

/// <summary>Queue names: <c>[a-z0-9][a-z0-9._-]{0,127}</c>.</summary>
public static partial class QueueName
{
    public const int MaxLength = 128;

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    public static bool IsValid([NotNullWhen(true)] string? name) => name is not null && Pattern().IsMatch(name);

    public static string Describe(string? name) =>
        $"invalid queue name '{name}': use 1-{MaxLength} characters from a-z, 0-9, '.', '_', '-', starting with a letter or digit";
}

/// <summary>Partition <c>Index</c> of queue <c>Queue</c> in namespace <c>Namespace</c>; its entity id is <c>ns/queue#index</c>.</summary>
public readonly record struct PartitionId(string Namespace, string Queue, int Index)
{
    public const string DefaultNamespace = "default";

    public static PartitionId Of(string queue, int index) => new(DefaultNamespace, queue, index);

    public string EntityId => $"{Namespace}/{Queue}#{Index.ToString(CultureInfo.InvariantCulture)}";

    public override string ToString() => EntityId;

    public static bool TryParse(string? entityId, out PartitionId id)
    {
        id = default;
        if (entityId is null) return false;
        var slash = entityId.IndexOf('/');
        var hash = entityId.LastIndexOf('#');
        if (slash <= 0 || hash < slash + 2) return false;
        var ns = entityId[..slash];
        var queue = entityId[(slash + 1)..hash];
        if (!QueueName.IsValid(ns) || !QueueName.IsValid(queue)) return false;
        if (!int.TryParse(entityId.AsSpan(hash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index)) return false;
        id = new PartitionId(ns, queue, index);
        return true;
    }
}

/// <summary>
/// A task's id names its partition and its sequence number there (<c>ns/queue#p:seq</c>), so any request
/// about a task routes without a lookup. The sequence number carries the priority in its low 4 bits
/// (<c>seq = counter &lt;&lt; 4 | priority</c>) so a partition can classify a task it has not loaded.
/// </summary>
public readonly record struct TaskId(PartitionId Partition, long Seq)
{
    public long Counter => Seq >> 4;
    public int Priority => (int)(Seq & 0xF);

    public static long MakeSeq(long counter, int priority) => (counter << 4) | (uint)priority;

    public override string ToString() => $"{Partition.EntityId}:{Seq.ToString(CultureInfo.InvariantCulture)}";

    public static bool TryParse(string? text, out TaskId id)
    {
        id = default;
        if (text is null) return false;
        var colon = text.LastIndexOf(':');
        if (colon <= 0) return false;
        if (!PartitionId.TryParse(text[..colon], out var partition)) return false;
        if (!long.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var seq) || seq <= 0) return false;
        id = new TaskId(partition, seq);
        return true;
    }
}

/// <summary>
/// Names one delivery of a task: the task, the attempt, the partition owner's epoch and a nonce that makes
/// two deliveries of the same attempt distinguishable. Text form: <c>ns/queue#p:seq:attempt:epoch:nonce</c>.
/// </summary>
public readonly record struct LeaseToken(TaskId Task, int Attempt, long Epoch, long Nonce)
{
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Task}:{Attempt}:{Epoch}:{Nonce}");

    public static bool TryParse(string? text, out LeaseToken token)
    {
        token = default;
        if (text is null) return false;
        var parts = text.Split(':');
        if (parts.Length < 5) return false;
        var n = parts.Length;
        if (!int.TryParse(parts[n - 3], NumberStyles.None, CultureInfo.InvariantCulture, out var attempt)
            || !long.TryParse(parts[n - 2], NumberStyles.None, CultureInfo.InvariantCulture, out var epoch)
            || !long.TryParse(parts[n - 1], NumberStyles.None, CultureInfo.InvariantCulture, out var nonce))
            return false;
        if (!TaskId.TryParse(string.Join(':', parts, 0, n - 3), out var task)) return false;
        token = new LeaseToken(task, attempt, epoch, nonce);
        return true;
    }
}
