namespace Conduit.Cli.Output;

/// <summary>
/// Columns aligned with spaces, a header in capitals, never wrapped (long ids stay whole so they can be copied
/// into the next command). Cells may carry colour; alignment uses their visible width. Every cell is escaped with
/// <see cref="CliOutput.Escape"/> when it is added (cells hold ids, payloads and reasons from the network), so
/// control characters show as <c>\x1b</c> and widths count what the terminal will show.
/// </summary>
public sealed class TableWriter(params string[] headers)
{
    private const int Gap = 2;
    private readonly List<Cell[]> _rows = [];
    private readonly HashSet<int> _rightAligned = [];

    public readonly record struct Cell(string Text, string? Colour = null)
    {
        public static implicit operator Cell(string text) => new(text);
    }

    public int Count => _rows.Count;

    /// <summary>Right-aligns the given columns (numbers).</summary>
    public TableWriter AlignRight(params int[] columns)
    {
        foreach (var c in columns) _rightAligned.Add(c);
        return this;
    }

    public void Add(params Cell[] cells)
    {
        if (cells.Length != headers.Length) throw new ArgumentException($"expected {headers.Length} cells, got {cells.Length}");
        _rows.Add(cells.Select(c => c with { Text = CliOutput.Escape(c.Text) }).ToArray());
    }

    public void WriteTo(CliOutput output)
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, _rows.Count == 0 ? 0 : _rows.Max(r => r[i].Text.Length))).ToArray();
        output.FormattedLine(Format(headers.Select(h => new Cell(h)).ToArray(), widths, output, header: true));
        foreach (var row in _rows) output.FormattedLine(Format(row, widths, output, header: false));
    }

    private string Format(Cell[] cells, int[] widths, CliOutput output, bool header)
    {
        var parts = new string[cells.Length];
        for (var i = 0; i < cells.Length; i++)
        {
            var text = cells[i].Text;
            var last = i == cells.Length - 1;
            var padded = _rightAligned.Contains(i) ? text.PadLeft(widths[i]) : last ? text : text.PadRight(widths[i]);
            parts[i] = header ? output.Bold(padded) : output.Paint(padded, cells[i].Colour);
        }
        return string.Join(new string(' ', Gap), parts).TrimEnd();
    }
}
