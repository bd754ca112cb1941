using System.Globalization;

namespace Conduit.Protocol;

/// <summary>
/// A task's sequence number within its partition: the task's counter (its place in enqueue order, from 1) and its
/// priority packed into one <see cref="long"/>, <c>counter &lt;&lt; 4 | priority</c>. The packed value is what task ids,
/// journal events and snapshots carry, so this layout is part of the wire and journal format and must not change;
/// it lets a partition tell a task's priority from its id without loading it.
/// </summary>
public readonly record struct TaskSeq(long Value)
{
    /// <summary>Low bits that hold the priority.</summary>
    public const int PriorityBits = 4;

    private const long PriorityMask = (1L << PriorityBits) - 1;

    /// <summary>The task's place in enqueue order within its partition (from 1).</summary>
    public long Counter => Value >> PriorityBits;

    /// <summary>The task's priority (the low <see cref="PriorityBits"/> bits; the protocol allows 0..<see cref="TaskSpec.MaxPriority"/>).</summary>
    public int Priority => (int)(Value & PriorityMask);

    public static TaskSeq Of(long counter, int priority) => new((counter << PriorityBits) | (uint)priority);

    /// <summary>The task with the same counter and priority <paramref name="priority"/>.</summary>
    public TaskSeq WithPriority(int priority) => Of(Counter, priority);

    public static implicit operator long(TaskSeq seq) => seq.Value;

    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}
