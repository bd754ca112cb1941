using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Conduit.Cli.Output;

/// <summary>
/// Where a command's answer goes: aligned tables and plain lines on stdout, or, with <c>--json</c>, exactly one
/// JSON document on stdout. Errors go to stderr (and, with <c>--json</c>, as a JSON document on stdout too).
/// Colour only when the stream is a terminal.
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

    public void Line(string text = "") => stdout.WriteLine(text);

    /// <summary>A note for the human reader on stderr (never mixed into a JSON document).</summary>
    public void Note(string text) => stderr.WriteLine(_errColour ? Ansi.Wrap(text, Ansi.Yellow) : text);

    /// <summary>An error: on stderr, and as <c>{"error": {...}}</c> on stdout with <c>--json</c>.</summary>
    public void Error(string kind, string? code, string message)
    {
        var text = code is null ? $"error: {message}" : $"{code}: {message}";
        stderr.WriteLine(_errColour ? Ansi.Wrap(text, Ansi.Red) : text);
        if (json) stdout.WriteLine(JsonSerializer.Serialize(new { error = new { kind, code, message } }, JsonOptions));
    }

    public string Paint(string text, string? colour) => colour is not null && _colour ? Ansi.Wrap(text, colour) : text;
    public string Bold(string text) => _colour ? Ansi.Wrap(text, Ansi.BoldCode) : text;
}
