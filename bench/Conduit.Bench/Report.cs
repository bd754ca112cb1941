using System.Globalization;
using System.Text;

namespace Conduit.Bench;

/// <summary>What one timed run cost: tasks, time, who used the CPU, and what reached PostgreSQL.</summary>
public sealed record Measured(string Label, long Tasks, double Seconds, CpuUse Cpu, long JournalEvents, long Commits, long WalBytes)
{
    public double Rate => Seconds > 0 ? Tasks / Seconds : 0;
}

/// <summary>
/// The Markdown report: machine facts, then one table (and one profile table) per scenario. Scenarios may run in another
/// order than their numbers (6 runs before 5, whose queues would stay on the node); each writes into its
/// <see cref="Section"/> and the report prints them by number.
/// </summary>
public sealed class Report
{
    private readonly SortedDictionary<int, StringBuilder> _sections = new() { [0] = new StringBuilder() };
    private StringBuilder _md;

    public Report() => _md = _sections[0];

    /// <summary>What follows goes into section <paramref name="n"/> (0: the header, before every scenario).</summary>
    public void Section(int n) => _md = _sections.TryGetValue(n, out var sb) ? sb : _sections[n] = new StringBuilder();

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

    /// <summary>
    /// Per run: the CPU split in percent of a core and in µs of CPU per task (node, PostgreSQL, client = this bench
    /// process), journal events per task for Conduit, PostgreSQL commits and WAL bytes per task. With several node
    /// processes (the scale scenario) the node cells list each node, then their sum.
    /// </summary>
    public void Profile(IEnumerable<Measured> runs)
    {
        Table(["run", "tasks/s", "node CPU", "PG CPU", "client CPU", "other CPU", "node µs/task", "PG µs/task", "client µs/task",
                "journal events", "tasks/event", "PG commits/task", "WAL bytes/task"],
            runs.Select(m =>
            {
                string Us(double pct) => m.Rate > 0 ? F(pct * 10_000 / m.Rate) : "-";
                string PerNode(Func<double, string> cell, string unit) => m.Cpu.Node <= 0 ? "-"
                    : m.Cpu.Nodes.Count == 1 ? cell(m.Cpu.Node) + unit
                    : string.Join(" + ", m.Cpu.Nodes.Select(cell)) + " = " + cell(m.Cpu.Node) + unit;
                return new[]
                {
                    m.Label, F(m.Rate), PerNode(v => v.ToString("0", CultureInfo.InvariantCulture), "%"), $"{m.Cpu.Postgres:0}%",
                    $"{m.Cpu.Client:0}%", $"{m.Cpu.Other:0}%", PerNode(Us, ""), Us(m.Cpu.Postgres), Us(m.Cpu.Client),
                    m.JournalEvents > 0 ? m.JournalEvents.ToString(CultureInfo.InvariantCulture) : "-",
                    m.JournalEvents > 0 ? F((double)m.Tasks / m.JournalEvents) : "-",
                    m.Tasks > 0 ? ((double)m.Commits / m.Tasks).ToString(m.Commits >= m.Tasks ? "0.0" : "0.000", CultureInfo.InvariantCulture) : "-",
                    m.Tasks > 0 ? F((double)m.WalBytes / m.Tasks) : "-",
                };
            }));
    }

    public override string ToString() => string.Concat(_sections.Values.Select(sb => sb.ToString()));
}
