using System.Text;

namespace Conduit.Protocol;

/// <summary>
/// Makes text that came from the network safe to print on a terminal or in a log line: control characters (C0, DEL,
/// C1, which includes ESC and the newlines that would forge a log line) become visible escapes such as <c>\x1b</c>,
/// and long text is cut.
/// </summary>
public static class SafeText
{
    /// <summary>The text with every control character escaped, cut to <paramref name="maxLength"/> characters (then ending in "…").</summary>
    public static string Escape(string? text, int maxLength = 200)
    {
        if (text is null) return "";
        var cut = text.Length > maxLength;
        var span = cut ? text.AsSpan(0, maxLength) : text.AsSpan();
        if (cut && span.Length > 0 && char.IsHighSurrogate(span[^1])) span = span[..^1]; // never half a pair
        if (!cut && !HasControl(span)) return text;
        var builder = new StringBuilder(span.Length + 8);
        foreach (var c in span)
        {
            if (IsControl(c)) builder.Append(c <= 0xFF ? $"\\x{(int)c:x2}" : $"\\u{(int)c:x4}");
            else builder.Append(c);
        }
        if (cut) builder.Append('…');
        return builder.ToString();
    }

    /// <summary>C0 (0x00-0x1F), DEL (0x7F), C1 (0x80-0x9F); also the Unicode line and paragraph separators, bidi overrides and marks, and invisible spaces.</summary>
    public static bool IsControl(char c) =>
        c < 0x20 || c is >= '\u007f' and <= '\u009f' || c is '\u2028' or '\u2029' || c is >= '\u202a' and <= '\u202e' || c is >= '\u2066' and <= '\u2069'
        || c is '\u200e' or '\u200f' or '\u061c' or '\u200b' or '\ufeff';

    private static bool HasControl(ReadOnlySpan<char> span)
    {
        foreach (var c in span)
            if (IsControl(c)) return true;
        return false;
    }
}
