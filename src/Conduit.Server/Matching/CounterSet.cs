namespace Conduit.Server.Matching;

/// <summary>
/// A set of task counters kept as sorted, disjoint [start, end) ranges. Tasks settle roughly in the order they
/// were enqueued, so the set of settled counters stays a handful of ranges however many tasks went through.
/// </summary>
internal sealed class CounterSet
{
    private readonly List<long> _starts = [];
    private readonly List<long> _ends = [];

    public int RangeCount => _starts.Count;

    public bool Contains(long counter)
    {
        var i = IndexOfRangeAtOrBefore(counter);
        return i >= 0 && counter < _ends[i];
    }

    public void Add(long counter) => AddRange(counter, counter + 1);

    /// <summary>Adds [start, end).</summary>
    public void AddRange(long start, long end)
    {
        if (end <= start) return;
        var i = IndexOfRangeAtOrBefore(start);
        // Merge with the range before when it touches.
        if (i >= 0 && _ends[i] >= start)
        {
            start = _starts[i];
            end = Math.Max(end, _ends[i]);
        }
        else
        {
            i++;
            _starts.Insert(i, start);
            _ends.Insert(i, end);
        }
        _starts[i] = start;
        _ends[i] = end;
        // Swallow the ranges after it that now overlap or touch.
        var j = i + 1;
        while (j < _starts.Count && _starts[j] <= end)
        {
            _ends[i] = Math.Max(_ends[i], _ends[j]);
            j++;
        }
        if (j > i + 1)
        {
            _starts.RemoveRange(i + 1, j - i - 1);
            _ends.RemoveRange(i + 1, j - i - 1);
        }
    }

    /// <summary>The smallest counter at or above <paramref name="from"/> that is not in the set.</summary>
    public long FirstMissingFrom(long from)
    {
        var i = IndexOfRangeAtOrBefore(from);
        return i >= 0 && from < _ends[i] ? _ends[i] : from;
    }

    public long[] ToPairs()
    {
        var pairs = new long[_starts.Count * 2];
        for (var i = 0; i < _starts.Count; i++)
        {
            pairs[2 * i] = _starts[i];
            pairs[2 * i + 1] = _ends[i];
        }
        return pairs;
    }

    public static CounterSet FromPairs(long[] pairs)
    {
        var set = new CounterSet();
        for (var i = 0; i + 1 < pairs.Length; i += 2) set.AddRange(pairs[i], pairs[i + 1]);
        return set;
    }

    private int IndexOfRangeAtOrBefore(long counter)
    {
        // Index of the last range whose start <= counter, or -1.
        int lo = 0, hi = _starts.Count - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_starts[mid] <= counter) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found;
    }
}
