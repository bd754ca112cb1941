using System.Diagnostics;
using System.Globalization;

namespace Conduit.Cli.Output;

/// <summary>
/// A one-line progress bar on stderr, redrawn at most ten times a second; only on a terminal (when stderr is
/// redirected nothing is drawn, so logs and test output stay clean).
/// </summary>
public sealed class ProgressBar : IDisposable
{
    private const int Width = 30;
    private static readonly TimeSpan RedrawEvery = TimeSpan.FromMilliseconds(100);

    private readonly TextWriter _err;
    private readonly string _label;
    private readonly long _total;
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private readonly object _gate = new();
    private TimeSpan _lastDraw = TimeSpan.MinValue;
    private long _done;

    private ProgressBar(TextWriter err, string label, long total)
    {
        _err = err;
        _label = label;
        _total = Math.Max(1, total);
    }

    /// <summary>A bar on <paramref name="err"/> when it is a terminal, otherwise null (nothing drawn).</summary>
    public static ProgressBar? StartIfTerminal(TextWriter err, bool errIsTerminal, string label, long total) =>
        errIsTerminal ? new ProgressBar(err, label, total) : null;

    public void Advance(long by)
    {
        lock (_gate)
        {
            _done += by;
            var now = _watch.Elapsed;
            if (now - _lastDraw < RedrawEvery && _done < _total) return;
            _lastDraw = now;
            var fraction = Math.Min(1.0, (double)_done / _total);
            var filled = (int)(fraction * Width);
            var rate = _done / Math.Max(0.001, now.TotalSeconds);
            _err.Write(string.Create(CultureInfo.InvariantCulture,
                $"\r{_label} [{new string('#', filled)}{new string('-', Width - filled)}] {fraction,4:P0} {_done:N0}/{_total:N0} {rate:N0}/s "));
            _err.Flush();
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _err.Write("\r" + new string(' ', Width + _label.Length + 60) + "\r");
            _err.Flush();
        }
    }
}
