using System.Text.Json;
using Akka.Event;
using Conduit.Protocol.Remoting;

namespace Conduit.Server.Diagnostics;

/// <summary>
/// Akka's logger for the moments before an ActorSystem's loggers start and after they stop
/// (<c>akka.stdout-logger-class</c>), when the node logs JSON: one JSON object a line, in the shape of
/// Microsoft.Extensions.Logging's JSON console formatter (<c>Timestamp</c>, <c>LogLevel</c>, <c>Category</c>,
/// <c>Message</c>, <c>Exception</c>, <c>State</c>), so every line of the node's stdout parses as JSON.
/// </summary>
public sealed class JsonStdoutLogger : MinimalLogger
{
    /// <summary>The HOCON that makes an ActorSystem use it.</summary>
    public static string Hocon => $"akka.stdout-logger-class = \"{typeof(JsonStdoutLogger).FullName}, {typeof(JsonStdoutLogger).Assembly.GetName().Name}\"";

    private static readonly object Gate = new();

    protected override void Log(object message)
    {
        var line = message is LogEvent e ? Line(e) : JsonSerializer.Serialize(new { LogLevel = "Information", Category = "Akka", Message = ClientSystemName.Redact(message?.ToString() ?? "") });
        lock (Gate) Console.Out.WriteLine(line);
    }

    internal static string Line(LogEvent e) => JsonSerializer.Serialize(new
    {
        Timestamp = e.Timestamp.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture),
        EventId = 0,
        LogLevel = e.LogLevel() switch
        {
            LogLevel.DebugLevel => "Debug",
            LogLevel.InfoLevel => "Information",
            LogLevel.WarningLevel => "Warning",
            _ => "Error",
        },
        Category = e.LogClass is { } type && type.Name != "DummyClassForStringSources" ? type.FullName : "Akka",
        // The random part of clients' system names left out (ClientSystemName).
        Message = ClientSystemName.Redact(e.Message?.ToString()),
        Exception = ClientSystemName.Redact(e.Cause?.ToString()),
        State = new { ActorPath = ClientSystemName.Redact(e.LogSource) },
    });
}
