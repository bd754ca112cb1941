using System.Diagnostics.CodeAnalysis;

namespace Conduit.Server.History;

/// <summary>
/// Delivery starts held back for a moment (<see cref="TaskHistoryOptions.LingerMs"/>) before they are written: a change
/// of the same task that comes meanwhile takes its start along (<see cref="TryTake"/>), so the two are folded into one
/// row insert; a start nothing came for is released once it has lingered its time (<see cref="ReleaseDue"/>).
/// </summary>
/// <remarks>
/// At most one start lingers per task. Starts are released in the order they came. Times are the caller's clock in
/// milliseconds (the history writer uses <see cref="Environment.TickCount64"/>). <see cref="Bytes"/> is what the
/// lingering starts hold (<see cref="HistoryRecord.Bytes"/>): a start's bytes leave with it, however it leaves.
/// </remarks>
internal sealed class LingeringStarts(long lingerMs)
{
    /// <summary>The lingering start of each task, with the number it was given when it came.</summary>
    private readonly Dictionary<string, (HistoryRecord Start, long Seq)> _byTask = new(StringComparer.Ordinal);
    /// <summary>The starts in the order they came, by task id and number (an entry whose number no longer matches was taken already).</summary>
    private readonly Queue<(string TaskId, long Seq, long AtMs)> _order = new();
    private long _seq;

    /// <summary>Starts lingering.</summary>
    public int Count => _byTask.Count;

    /// <summary>Bytes the lingering starts hold.</summary>
    public long Bytes { get; private set; }

    /// <summary>
    /// <paramref name="start"/> lingers from <paramref name="nowMs"/>. If its task has a start lingering already (a
    /// delivery given back and started again), that earlier start is returned, no longer lingering: it is to be
    /// written as it is, before this one.
    /// </summary>
    public HistoryRecord? Add(HistoryRecord start, long nowMs)
    {
        TryTake(start.TaskId, out var earlier);
        var seq = ++_seq;
        _byTask[start.TaskId] = (start, seq);
        _order.Enqueue((start.TaskId, seq, nowMs));
        Bytes += start.Bytes;
        // Entries of starts taken along stay in line until the head is released; while nothing is (the table is not
        // there yet, a write is retried) they would pile up without bound: past twice the live ones, drop them.
        if (_order.Count > 2 * _byTask.Count + CompactionSlack) Compact();
        return earlier;
    }

    /// <summary>Stale entries (<see cref="Entries"/> beyond <see cref="Count"/>) tolerated before the line is rebuilt.</summary>
    internal const int CompactionSlack = 1024;

    /// <summary>Entries in line, stale ones included (at most about twice <see cref="Count"/>).</summary>
    internal int Entries => _order.Count;

    private void Compact()
    {
        var live = _order.Where(e => _byTask.TryGetValue(e.TaskId, out var lingering) && lingering.Seq == e.Seq).ToList();
        _order.Clear();
        foreach (var e in live) _order.Enqueue(e);
    }

    /// <summary>Takes <paramref name="taskId"/>'s lingering start, if it has one: its next change came (it goes with it, or is dropped with it).</summary>
    public bool TryTake(string taskId, [NotNullWhen(true)] out HistoryRecord? start)
    {
        if (!_byTask.Remove(taskId, out var lingering))
        {
            start = null;
            return false;
        }
        Bytes -= lingering.Start.Bytes;
        start = lingering.Start;
        return true;
    }

    /// <summary>Takes the starts that have lingered their time by <paramref name="nowMs"/>, oldest first, each with when it came.</summary>
    public IReadOnlyList<(HistoryRecord Start, long AtMs)> ReleaseDue(long nowMs) => ReleaseCameBy(nowMs - lingerMs);

    /// <summary>Takes every lingering start, oldest first, each with when it came (the node stops: nothing waits any more).</summary>
    public IReadOnlyList<(HistoryRecord Start, long AtMs)> ReleaseAll() => ReleaseCameBy(long.MaxValue);

    /// <summary>How long from <paramref name="nowMs"/> until the oldest lingering start is due (at least 1 ms); null when none lingers.</summary>
    public long? NextDueInMs(long nowMs)
    {
        SkipTaken();
        return _order.TryPeek(out var oldest) ? Math.Max(1, lingerMs - (nowMs - oldest.AtMs)) : null;
    }

    /// <summary>Drops every lingering start; returns how many there were.</summary>
    public int Clear()
    {
        var dropped = _byTask.Count;
        _byTask.Clear();
        _order.Clear();
        Bytes = 0;
        return dropped;
    }

    private IReadOnlyList<(HistoryRecord Start, long AtMs)> ReleaseCameBy(long cutoffMs)
    {
        List<(HistoryRecord Start, long AtMs)>? released = null;
        SkipTaken();
        while (_order.TryPeek(out var next) && next.AtMs <= cutoffMs)
        {
            _order.Dequeue();
            TryTake(next.TaskId, out var start);
            (released ??= []).Add((start!, next.AtMs));
            SkipTaken();
        }
        return released ?? (IReadOnlyList<(HistoryRecord Start, long AtMs)>)Array.Empty<(HistoryRecord Start, long AtMs)>();
    }

    /// <summary>Drops the entries at the head of <see cref="_order"/> whose start was taken (or replaced) already.</summary>
    private void SkipTaken()
    {
        while (_order.TryPeek(out var next) && !(_byTask.TryGetValue(next.TaskId, out var lingering) && lingering.Seq == next.Seq))
            _order.Dequeue();
    }
}
