using System.Globalization;
using System.Text;

namespace Conduit.Bench;

/// <summary>What one timed run cost: tasks, time, who used the CPU, and what reached PostgreSQL.</summary>
public sealed record Measured(string Label, long Tasks, double Seconds, CpuUse Cpu, long JournalEvents, long Commits, long WalBytes)
{
    public double Rate => Seconds > 0 ? Tasks / Seconds : 0;
}

/// <summary>The Markdown report: machine facts, then one table (and one profile table) per scenario.</summary>
public sealed class Report
{
    private readonly StringBuilder _md = new();

    public static string F(double v) => v >= 100 ? v.ToString("N0", CultureInfo.InvariantCulture) : v.ToString("0.0", CultureInfo.InvariantCulture);
    public static string Ratio(double a, double b) => b > 0 && a > 0 ? (a / b).ToString("0.00", CultureInfo.InvariantCulture) : "n/a";
    public static string Mb(long bytes) => (bytes / 1048576.0).ToString("N0", CultureInfo.InvariantCulture) + " MiB";

    public void Line(string text = "") => _md.AppendLine(text);

    public void Table(string[] header, IEnumerable<string[]> rows)
    {
        _md.AppendLine("| " + string.Join(" | ", header) + " |");
        _md.AppendLine("|" + string.Concat(header.Select((_, i) => i == 0 ? "---|" : "---:|")));
        foreach (var r in rows) _md.AppendLine("| " + string.Join(" | ", r) + " |");
        _md.AppendLine();
    }

    /// <summary>Per run: the CPU split and, for Conduit, journal events per task.</summary>
    public void Profile(IEnumerable<Measured> runs)
    {
        Table(["run", "tasks/s", "node CPU", "PostgreSQL CPU", "client CPU", "other CPU", "journal events", "tasks/event", "PG commits", "WAL bytes/task"],
            runs.Select(m => new[]
            {
                m.Label, F(m.Rate), m.Cpu.Node > 0 ? $"{m.Cpu.Node:0}%" : "-", $"{m.Cpu.Postgres:0}%", $"{m.Cpu.Client:0}%", $"{m.Cpu.Other:0}%",
                m.JournalEvents > 0 ? m.JournalEvents.ToString(CultureInfo.InvariantCulture) : "-",
                m.JournalEvents > 0 ? F((double)m.Tasks / m.JournalEvents) : "-",
                m.Commits.ToString(CultureInfo.InvariantCulture),
                m.Tasks > 0 ? F((double)m.WalBytes / m.Tasks) : "-",
            }));
    }

    public override string ToString() => _md.ToString();
}
