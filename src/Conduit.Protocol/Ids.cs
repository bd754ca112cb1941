using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Conduit.Protocol;

/// <summary>Queue names: <c>[a-z0-9][a-z0-9._-]{0,127}</c>.</summary>
public static partial class QueueName
{
    public const int MaxLength = 128;

    // \z, not $: $ also matches before a final newline, which let "q\n" through.
    [GeneratedRegex(@"^[a-z0-9][a-z0-9._-]{0,127}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    public static bool IsValid([NotNullWhen(true)] string? name) => name is not null && Pattern().IsMatch(name);

    public static string Describe(string? name) =>
        $"invalid queue name '{name}': use 1-{MaxLength} characters from a-z, 0-9, '.', '_', '-', starting with a letter or digit";
}

/// <summary>
/// Namespace names follow the queue-name rule, <c>[a-z0-9][a-z0-9._-]{0,127}</c>. A queue lives in a namespace (the
/// default one is <c>default</c>): queues of the same name in two namespaces are separate queues. A request that names
/// no namespace (null, which is what a client from before namespaces sends) means <see cref="PartitionId.DefaultNamespace"/>.
/// </summary>
public static class NamespaceName
{
    public const int MaxLength = QueueName.MaxLength;

    public static bool IsValid([NotNullWhen(true)] string? name) => QueueName.IsValid(name);

    /// <summary>The namespace a request means: <paramref name="name"/>, or the default one when it is null.</summary>
    public static string OrDefault(string? name) => name ?? PartitionId.DefaultNamespace;

    public static string Describe(string? name) =>
        $"invalid namespace '{name}': use 1-{MaxLength} characters from a-z, 0-9, '.', '_', '-', starting with a letter or digit";
}

/// <summary>
/// A worker's name for itself (<see cref="Poll.Worker"/>), kept with each delivery it takes (docs/results.md): 1 to
/// 128 printable ASCII characters (space to '~'), e.g. <c>host-1:4242</c>. Anything else is refused, so it is safe in
/// a log line, a terminal and a database row.
/// </summary>
public static class WorkerName
{
    public const int MaxLength = 128;

    public static bool IsValid([NotNullWhen(true)] string? name)
    {
        if (name is null || name.Length is 0 or > MaxLength) return false;
        foreach (var c in name)
            if (c is < ' ' or > '~') return false;
        return true;
    }

    public static string Describe(string? name) =>
        $"invalid worker name '{SafeText.Escape(name, 64)}': use 1-{MaxLength} printable ASCII characters";
}

/// <summary>Partition <c>Index</c> of queue <c>Queue</c> in namespace <c>Namespace</c>; its entity id is <c>ns/queue#index</c>.</summary>
public readonly record struct PartitionId(string Namespace, string Queue, int Index)
{
    public const string DefaultNamespace = "default";

    /// <summary>Partition <paramref name="index"/> of <paramref name="queue"/> in the default namespace.</summary>
    public static PartitionId Of(string queue, int index) => new(DefaultNamespace, queue, index);

    /// <summary>Partition <paramref name="index"/> of <paramref name="queue"/> in namespace <paramref name="ns"/> (null: the default one).</summary>
    public static PartitionId Of(string? ns, string queue, int index) => new(NamespaceName.OrDefault(ns), queue, index);

    /// <summary>The queue as text, <c>ns/queue</c> (what logs and error messages show).</summary>
    public string QueuePath => $"{Namespace}/{Queue}";

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
        if (!NamespaceName.IsValid(ns) || !QueueName.IsValid(queue)) return false;
        if (!int.TryParse(entityId.AsSpan(hash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index)) return false;
        id = new PartitionId(ns, queue, index);
        return true;
    }
}

/// <summary>
/// A task's id names its partition and its sequence number there (<c>ns/queue#p:seq</c>), so any request
/// about a task routes without a lookup. The sequence number carries the priority in its low 4 bits
/// (<c>seq = counter &lt;&lt; 4 | priority</c>, see <see cref="TaskSeq"/>) so a partition can classify a task it has not loaded.
/// </summary>
public readonly record struct TaskId(PartitionId Partition, long Seq)
{
    /// <summary>Longest text a task id can have (two 128-character names, an index, a sequence number); longer text is not parsed.</summary>
    public const int MaxTextLength = 300;

    public long Counter => new TaskSeq(Seq).Counter;
    public int Priority => new TaskSeq(Seq).Priority;

    public static long MakeSeq(long counter, int priority) => TaskSeq.Of(counter, priority);

    public override string ToString() => $"{Partition.EntityId}:{Seq.ToString(CultureInfo.InvariantCulture)}";

    public static bool TryParse(string? text, out TaskId id)
    {
        id = default;
        if (text is null || text.Length > MaxTextLength) return false;
        var colon = text.LastIndexOf(':');
        if (colon <= 0) return false;
        if (!PartitionId.TryParse(text[..colon], out var partition)) return false;
        if (!long.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var seq)) return false;
        id = new TaskId(partition, seq);
        return id.IsWellFormed;
    }

    /// <summary>A counter of at least 1 and a priority the protocol allows (the low 4 bits could say 10..15).</summary>
    public bool IsWellFormed => Counter >= 1 && Priority <= TaskSpec.MaxPriority;
}

/// <summary>
/// Names one delivery of a task: the task, the attempt, the epoch of the partition owner that handed it out, a random
/// nonce, and <see cref="Mac"/>, which the partition computes over all of these with a key only it knows (kept in its
/// journal, so a new owner after a failover checks the same tokens). A token cannot be made up or altered: a partition
/// refuses one whose MAC, epoch, attempt or nonce is not exactly what it handed out.
/// Text form: <c>ns/queue#p:seq:attempt:epoch:nonce:mac</c>.
/// </summary>
public readonly record struct LeaseToken(TaskId Task, int Attempt, long Epoch, long Nonce, string Mac)
{
    /// <summary>Longest text a token can have; longer text is not parsed at all.</summary>
    public const int MaxTextLength = 512;

    /// <summary>Everything but the MAC: what the MAC is computed over.</summary>
    public string SignedPart => string.Create(CultureInfo.InvariantCulture, $"{Task}:{Attempt}:{Epoch}:{Nonce}");

    public override string ToString() => $"{SignedPart}:{Mac}";

    public static bool TryParse(string? text, out LeaseToken token)
    {
        token = default;
        if (text is null || text.Length > MaxTextLength) return false;
        var parts = text.Split(':');
        if (parts.Length < 6) return false;
        var n = parts.Length;
        if (!int.TryParse(parts[n - 4], NumberStyles.None, CultureInfo.InvariantCulture, out var attempt) || attempt < 1
            || !long.TryParse(parts[n - 3], NumberStyles.None, CultureInfo.InvariantCulture, out var epoch)
            || !long.TryParse(parts[n - 2], NumberStyles.None, CultureInfo.InvariantCulture, out var nonce))
            return false;
        var mac = parts[n - 1];
        if (mac.Length is 0 or > 64) return false;
        if (!TaskId.TryParse(string.Join(':', parts, 0, n - 4), out var task)) return false;
        token = new LeaseToken(task, attempt, epoch, nonce, mac);
        return true;
    }
}
