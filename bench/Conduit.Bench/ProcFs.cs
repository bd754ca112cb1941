using System.Diagnostics;

namespace Conduit.Bench;

/// <summary>CPU time and memory of processes from /proc (Linux), to say who was busy during a measurement.</summary>
public static class ProcFs
{
    public static readonly long TicksPerSecond = 100; // USER_HZ on Linux

    public static long RssBytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        catch (IOException) { }
        return 0;
    }

    /// <summary>(utime+stime, cutime+cstime, ppid) of a process, in ticks; null when it is gone.</summary>
    public static (long Own, long Children, int Ppid)? Times(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // fields after "(comm) ": [0]=state [1]=ppid ... [11]=utime [12]=stime [13]=cutime [14]=cstime
            return (long.Parse(f[11]) + long.Parse(f[12]), long.Parse(f[13]) + long.Parse(f[14]), int.Parse(f[1]));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>CPU ticks of PostgreSQL: the postmaster with its reaped children, plus every live backend.</summary>
    public static long PostgresTicks(int postmasterPid)
    {
        if (Times(postmasterPid) is not { } pm) return 0;
        var total = pm.Own + pm.Children;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == postmasterPid) continue;
            if (Times(pid) is { } t && t.Ppid == postmasterPid) total += t.Own;
        }
        return total;
    }

    /// <summary>Busy and total ticks of the whole machine (all cores), from /proc/stat.</summary>
    public static (long Busy, long Total) MachineTicks()
    {
        var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
        var idle = cpu[3] + (cpu.Length > 4 ? cpu[4] : 0);
        var total = cpu.Take(8).Sum();
        return (total - idle, total);
    }

    public static long SelfTicks() => Times(Environment.ProcessId)?.Own ?? 0;
}

/// <summary>Who used the CPU between <see cref="Start"/> and <see cref="Stop"/>, in percent of one core.</summary>
/// <param name="nodePids">The Conduit node processes measured (one, or each node of a cluster); read at start and stop.</param>
public sealed class CpuMeter(Func<IReadOnlyList<int>> nodePids, int postmasterPid)
{
    private IReadOnlyList<int> _pids = [];
    private long[] _nodes = [];
    private long _pg, _self, _busy;
    private readonly Stopwatch _wall = new();

    public static CpuMeter Start(Func<IReadOnlyList<int>> nodePids, int postmasterPid)
    {
        var m = new CpuMeter(nodePids, postmasterPid);
        m.Begin();
        return m;
    }

    private void Begin()
    {
        _pids = nodePids();
        _nodes = _pids.Select(NodeTicks).ToArray();
        _pg = ProcFs.PostgresTicks(postmasterPid);
        _self = ProcFs.SelfTicks();
        _busy = ProcFs.MachineTicks().Busy;
        _wall.Restart();
    }

    private static long NodeTicks(int pid) => ProcFs.Times(pid)?.Own ?? 0;

    public CpuUse Stop()
    {
        var seconds = _wall.Elapsed.TotalSeconds;
        double Pct(long ticks) => ticks * 100.0 / ProcFs.TicksPerSecond / seconds;
        // A node that stopped during the measurement counts what it used until its last reading (0 after).
        var nodes = _pids.Select((pid, i) => Math.Max(0, NodeTicks(pid) - _nodes[i])).ToArray();
        var pg = ProcFs.PostgresTicks(postmasterPid) - _pg;
        var self = ProcFs.SelfTicks() - _self;
        var busy = ProcFs.MachineTicks().Busy - _busy;
        return new CpuUse(nodes.Select(Pct).ToArray(), Pct(pg), Pct(self), Pct(Math.Max(0, busy - nodes.Sum() - pg - self)));
    }
}

/// <summary>Percent of one core (200% = both cores of this machine); <see cref="Nodes"/> has one entry per node process.</summary>
public sealed record CpuUse(IReadOnlyList<double> Nodes, double Postgres, double Client, double Other)
{
    /// <summary>All node processes together.</summary>
    public double Node => Nodes.Sum();

    public override string ToString() => Nodes.Count > 0
        ? $"node {(Nodes.Count > 1 ? string.Join(" + ", Nodes.Select(n => $"{n:0}")) + " = " : "")}{Node:0}% · pg {Postgres:0}% · client {Client:0}% · other {Other:0}%"
        : $"pg {Postgres:0}% · client {Client:0}% · other {Other:0}%";
}
