using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Conduit.Cli.Output;

/// <summary>
/// Where a command's answer goes: aligned tables and plain lines on stdout, or, with <c>--json</c>, exactly one
/// JSON document on stdout. Errors go to stderr (and, with <c>--json</c>, as a JSON document on stdout too).
/// Colour only when the stream is a terminal.
/// <para>
/// Human output is where text from the network (payloads, reasons, headers, ids, error messages) meets the operator's
/// terminal, so every line printed here goes through <see cref="SafeText.Escape"/>: control characters (ESC, OSC,
/// CR, BEL, C1, line separators, bidi overrides) are shown as <c>\x1b</c> and the like instead of acting on the
/// terminal. Nothing is cut (ids and lease tokens must stay whole); callers that shorten a preview do it themselves.
/// The JSON document is not touched: the serializer escapes control characters itself.
/// </para>
/// </summary>
public sealed class CliOutput(TextWriter stdout, TextWriter stderr, bool json, bool stdoutIsTerminal, bool stderrIsTerminal)
{
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter() },
    };

    private readonly bool _colour = Ansi.Enabled(!stdoutIsTerminal);
    private readonly bool _errColour = Ansi.Enabled(!stderrIsTerminal);

    public static CliOutput ForConsole(bool json) =>
        new(Console.Out, Console.Error, json, !Console.IsOutputRedirected, !Console.IsErrorRedirected);

    public bool Json => json;
    public TextWriter Err => stderr;
    public bool ErrIsTerminal => stderrIsTerminal;

    /// <summary>Prints <paramref name="document"/> as JSON with <c>--json</c>, otherwise runs <paramref name="human"/>.</summary>
    public void Result(object document, Action human)
    {
        if (json) stdout.WriteLine(JsonSerializer.Serialize(document, JsonOptions));
        else human();
    }

    /// <summary>One line on stdout, escaped (a line break inside <paramref name="text"/> shows as <c>\x0a</c>).</summary>
    public void Line(string text = "") => stdout.WriteLine(Escape(text));

    /// <summary>A line this tool formatted from cells it escaped itself (<see cref="TableWriter"/>), with its colour codes.</summary>
    internal void FormattedLine(string line) => stdout.WriteLine(line);

    /// <summary>A note for the human reader on stderr (never mixed into a JSON document), escaped.</summary>
    public void Note(string text)
    {
        var safe = Escape(text);
        stderr.WriteLine(_errColour ? Ansi.Wrap(safe, Ansi.Yellow) : safe);
    }

    /// <summary>
    /// An error: on stderr, and as <c>{"error": {...}}</c> on stdout with <c>--json</c>. On stderr
    /// <paramref name="message"/> and each of <paramref name="moreLines"/> is one escaped line, so a message from the
    /// network cannot start a line of its own; in the JSON document they are joined with line breaks.
    /// </summary>
    public void Error(string kind, string? code, string message, params IReadOnlyList<string> moreLines)
    {
        var first = code is null ? $"error: {Escape(message)}" : $"{Escape(code)}: {Escape(message)}";
        foreach (var line in moreLines.Select(Escape).Prepend(first))
            stderr.WriteLine(_errColour ? Ansi.Wrap(line, Ansi.Red) : line);
        if (json)
        {
            var whole = string.Join(Environment.NewLine, moreLines.Prepend(message));
            stdout.WriteLine(JsonSerializer.Serialize(new { error = new { kind, code, message = whole } }, JsonOptions));
        }
    }

    /// <summary>Text for a terminal: every control character made visible, nothing cut.</summary>
    public static string Escape(string? text) => SafeText.Escape(text, int.MaxValue);

    public string Paint(string text, string? colour) => colour is not null && _colour ? Ansi.Wrap(text, colour) : text;
    public string Bold(string text) => _colour ? Ansi.Wrap(text, Ansi.BoldCode) : text;
}
