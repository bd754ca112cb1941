namespace Conduit.Cli.Output;

/// <summary>ANSI colours, used only when the stream is a terminal and <c>NO_COLOR</c> is not set.</summary>
public static class Ansi
{
    public const string Red = "31";
    public const string Green = "32";
    public const string Yellow = "33";
    public const string Dim = "2";
    public const string BoldCode = "1";

    public static string Wrap(string text, string code) => $"\u001b[{code}m{text}\u001b[0m";

    /// <summary>True when output to this stream should be coloured.</summary>
    public static bool Enabled(bool redirected) =>
        !redirected
        && Environment.GetEnvironmentVariable("NO_COLOR") is null or ""
        && Environment.GetEnvironmentVariable("TERM") is not "dumb";
}
