using System.Globalization;
using System.Text.RegularExpressions;

namespace Conduit.Cli;

/// <summary>Durations on the command line: <c>500ms</c>, <c>30s</c>, <c>5m</c>, <c>1h</c>, <c>1.5s</c>, <c>1m30s</c>.</summary>
public static partial class Durations
{
    public const string Examples = "500ms, 30s, 5m, 1h, 1m30s";

    [GeneratedRegex(@"(\d+(?:\.\d+)?)(ms|s|m|h)", RegexOptions.CultureInvariant)]
    private static partial Regex Part();

    [GeneratedRegex(@"^(\d+(?:\.\d+)?(ms|s|m|h))+$", RegexOptions.CultureInvariant)]
    private static partial Regex Whole();

    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (text is null || !Whole().IsMatch(text)) return false;
        double ms = 0;
        foreach (Match m in Part().Matches(text))
        {
            var value = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            ms += m.Groups[2].Value switch
            {
                "ms" => value,
                "s" => value * 1_000,
                "m" => value * 60_000,
                _ => value * 3_600_000,
            };
        }
        if (ms > TimeSpan.FromDays(365).TotalMilliseconds) return false;
        duration = TimeSpan.FromMilliseconds(ms);
        return true;
    }

    /// <summary>Short human form: <c>850ms</c>, <c>12.3s</c>, <c>4m05s</c>, <c>2h10m</c>.</summary>
    public static string Format(TimeSpan d) => d.TotalMilliseconds switch
    {
        < 1_000 => $"{d.TotalMilliseconds:0}ms",
        < 60_000 => string.Create(CultureInfo.InvariantCulture, $"{d.TotalSeconds:0.0}s"),
        < 3_600_000 => string.Create(CultureInfo.InvariantCulture, $"{(int)d.TotalMinutes}m{d.Seconds:00}s"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{(int)d.TotalHours}h{d.Minutes:00}m"),
    };
}
