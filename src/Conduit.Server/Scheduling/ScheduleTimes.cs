using Cronos;

namespace Conduit.Server.Scheduling;

/// <summary>
/// The due times of one <see cref="ScheduleSpec"/>: a cron expression in a time zone (Cronos: daylight-saving gaps and
/// overlaps handled as Cronos documents), or a fixed interval from an anchor; bounded by the spec's start and end.
/// Pure; times are Unix milliseconds.
/// </summary>
internal sealed class ScheduleTimes
{
    private readonly CronExpression? _cron;
    private readonly TimeZoneInfo _zone;
    private readonly long _interval;
    private readonly long _anchor;
    private readonly long _start;
    private readonly long _end;

    private ScheduleTimes(CronExpression? cron, TimeZoneInfo zone, long interval, long anchor, long start, long end)
    {
        (_cron, _zone, _interval, _anchor, _start, _end) = (cron, zone, interval, anchor, start, end);
    }

    /// <summary>The due times of <paramref name="spec"/>; an interval counts from its start, or else from <paramref name="createdAtMs"/>. Throws <see cref="ArgumentException"/> for a spec <see cref="ScheduleRules"/> would refuse.</summary>
    public static ScheduleTimes Of(ScheduleSpec spec, long createdAtMs)
    {
        var zone = Zone(spec.TimeZone) ?? throw new ArgumentException($"unknown time zone '{spec.TimeZone}'");
        var cron = spec.Cron is { } text ? ParseCron(text) : null;
        if (cron is null && spec.IntervalMs < ScheduleSpec.MinIntervalMs) throw new ArgumentException("a schedule needs a cron expression or an interval");
        return new ScheduleTimes(cron, zone, spec.IntervalMs, spec.StartAtUnixMs > 0 ? spec.StartAtUnixMs : createdAtMs,
            spec.StartAtUnixMs, spec.EndAtUnixMs);
    }

    /// <summary>A cron expression of 5 fields (minutes) or 6 (seconds first); throws <see cref="CronFormatException"/>.</summary>
    public static CronExpression ParseCron(string text)
    {
        var fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        return CronExpression.Parse(text, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
    }

    /// <summary>UTC for null or "UTC"; otherwise the system's zone of that id (IANA or Windows), or null when there is none.</summary>
    public static TimeZoneInfo? Zone(string? id)
    {
        if (id is null || string.Equals(id, "UTC", StringComparison.OrdinalIgnoreCase)) return TimeZoneInfo.Utc;
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return null;
        }
    }

    /// <summary>The first due time strictly after <paramref name="afterMs"/>, or null when there is none (past the end).</summary>
    public long? Next(long afterMs)
    {
        if (_start > 0 && afterMs < _start - 1) afterMs = _start - 1;
        long next;
        if (_cron is not null)
        {
            var from = DateTime.UnixEpoch.AddMilliseconds(afterMs);
            if (_cron.GetNextOccurrence(from, _zone, inclusive: false) is not { } at) return null;
            next = (long)(at - DateTime.UnixEpoch).TotalMilliseconds;
        }
        else
        {
            // The first anchor + k·interval (k ≥ 0) after afterMs.
            next = afterMs < _anchor ? _anchor : _anchor + ((afterMs - _anchor) / _interval + 1) * _interval;
        }
        return _end > 0 && next > _end ? null : next;
    }

    /// <summary>
    /// The latest due time at or before <paramref name="nowMs"/> that is after <paramref name="afterMs"/>, and how many
    /// due times in that span came before it; null when there is none. After <see cref="MaxCounted"/> due times the count
    /// stops and the latest is looked for from a day before now (a frequent cron schedule after a long outage).
    /// </summary>
    public (long Due, long Earlier)? LatestDue(long afterMs, long nowMs)
    {
        if (Next(afterMs) is not { } first || first > nowMs) return null;
        if (_cron is null)
        {
            // Arithmetic: the last anchor + k·interval at or before now (and before the end).
            var last = nowMs >= _anchor ? _anchor + (nowMs - _anchor) / _interval * _interval : first;
            if (_end > 0 && last > _end) last = _anchor + (_end - _anchor) / _interval * _interval;
            return (last, Math.Max(0, (last - first) / _interval));
        }
        long due = first, earlier = 0;
        while (Next(due) is { } next && next <= nowMs)
        {
            if (earlier >= MaxCounted)
            {
                // A long outage of a frequent schedule: find the latest due time from a day back, uncounted before that.
                var skipTo = Math.Max(due, nowMs - TimeSpan.FromDays(1).Ticks / TimeSpan.TicksPerMillisecond);
                if (skipTo > due) { due = Next(skipTo - 1) is { } d && d <= nowMs ? d : due; }
                while (Next(due) is { } n && n <= nowMs) due = n;
                return (due, earlier);
            }
            due = next;
            earlier++;
        }
        return (due, earlier);
    }

    /// <summary>How many due times a planner counts one by one before it jumps ahead (a cron schedule after a long outage).</summary>
    public const long MaxCounted = 10_000;

    /// <summary>Up to <paramref name="count"/> due times after <paramref name="afterMs"/>.</summary>
    public long[] Upcoming(long afterMs, int count)
    {
        var list = new List<long>(count);
        var at = afterMs;
        while (list.Count < count && Next(at) is { } next)
        {
            list.Add(next);
            at = next;
        }
        return list.ToArray();
    }
}
