using Akka.Event;
using Akka.Util;

namespace Conduit.Protocol.Remoting;

/// <summary>
/// Akka's console logger (<c>akka.stdout-logger-class</c>) for systems that talk to clients or are clients: Akka's
/// console lines, coloured by level, without the random part of any client system name (<see cref="ClientSystemName.Redact"/>).
/// Remoting names addresses in its lines and in their sources (<c>akka.tcp://conduit-client-…@host:port/system/endpointManager/…</c>).
/// A <c>ConduitClient</c> and a node's client endpoint in text mode use it; Akka's default logger writes through it too.
/// </summary>
public sealed class RedactingStdoutLogger : MinimalLogger
{
    /// <summary>The HOCON that makes an ActorSystem use it.</summary>
    public static string Hocon => $"akka.stdout-logger-class = \"{ClassName}\"";

    /// <summary>Its type as <c>akka.stdout-logger-class</c> names it.</summary>
    public static string ClassName => $"{typeof(RedactingStdoutLogger).FullName}, {typeof(RedactingStdoutLogger).Assembly.GetName().Name}";

    protected override void Log(object message)
    {
        if (message is not LogEvent e)
        {
            StandardOutWriter.WriteLine(ClientSystemName.Redact(message?.ToString() ?? ""));
            return;
        }
        string text;
        try
        {
            text = e.ToString();
        }
        catch (FormatException)
        {
            // A template whose arguments do not fit it: the template and the source, as written.
            text = $"[{e.LogLevel()}][{e.LogSource}] {(e.Message is LogMessage m ? m.Format : e.Message)}";
        }
        var color = !StandardOutLogger.UseColors ? (ConsoleColor?)null : e.LogLevel() switch
        {
            LogLevel.DebugLevel => StandardOutLogger.DebugColor,
            LogLevel.InfoLevel => StandardOutLogger.InfoColor,
            LogLevel.WarningLevel => StandardOutLogger.WarningColor,
            _ => StandardOutLogger.ErrorColor,
        };
        StandardOutWriter.WriteLine(ClientSystemName.Redact(text), color);
    }
}
