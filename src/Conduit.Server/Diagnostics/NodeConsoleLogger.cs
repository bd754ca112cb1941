using System.Data.Common;
using System.Net.Sockets;
using System.Security.Authentication;
using Akka.Event;
using Akka.Pattern;

namespace Conduit.Server.Diagnostics;

/// <summary>
/// The node's Akka logger: Akka's own console output, except for the two kinds of line that come in floods and say the
/// same thing each time. A connection that is not a well-formed peer (a port scan, a health probe, garbage, a refused TLS
/// handshake) gets one line without a stack trace, at most one a second for the whole system; a storage error (the
/// database down, the journal's circuit breaker open) gets one line without a stack trace per actor at most every
/// <see cref="StorageInterval"/>. Held-back lines are counted in the next line written. Text from the network is escaped.
/// </summary>
public sealed class NodeConsoleLogger : DefaultLogger
{
    /// <summary>One connection line a second for the whole system.</summary>
    public static readonly TimeSpan ConnectionInterval = TimeSpan.FromSeconds(1);
    /// <summary>One storage line per actor (a partition's writer, say) every 30 s.</summary>
    public static readonly TimeSpan StorageInterval = TimeSpan.FromSeconds(30);

    private readonly LogThrottle _connections = new(ConnectionInterval);
    private readonly LogThrottle _storage = new(StorageInterval);

    protected override void Print(LogEvent e)
    {
        switch (Classify(e))
        {
            case Noise.Connection:
                if (_connections.Allow("connection", e.Timestamp, out var held)) Console.WriteLine(Compact(e, "connection", held));
                break;
            case Noise.Storage:
                if (_storage.Allow(StorageKey(e.LogSource), e.Timestamp, out held)) Console.WriteLine(Compact(e, "storage", held));
                break;
            default:
                base.Print(e);
                break;
        }
    }

    internal enum Noise { None, Connection, Storage }

    /// <summary>
    /// The actor a storage line is counted against: a partition's writer gets a new name each time it starts
    /// (<c>…/default%2Fq%230/writer-1a2b3c4d</c>), so its lines count against the partition.
    /// </summary>
    internal static string StorageKey(string? source)
    {
        if (source is null) return "";
        var slash = source.LastIndexOf('/');
        return slash > 0 && source.AsSpan(slash + 1).StartsWith("writer-", StringComparison.Ordinal) ? source[..slash] : source;
    }

    /// <summary>Which flood, if any, a warning or error belongs to: by its source (remoting's channel handlers) or by its cause.</summary>
    internal static Noise Classify(LogEvent e)
    {
        if (e is not (Error or Warning)) return Noise.None;
        var source = e.LogSource ?? "";
        if (source.Contains("TcpServerHandler", StringComparison.Ordinal) || source.Contains("TcpClientHandler", StringComparison.Ordinal)
            || source.Contains("DotNettyTransport", StringComparison.Ordinal))
            return Noise.Connection;
        for (var cause = e.Cause; cause is not null; cause = cause.InnerException)
        {
            if (cause is DbException or OpenCircuitException || cause.GetType().Namespace?.StartsWith("Npgsql", StringComparison.Ordinal) == true
                || cause.GetType().Namespace?.StartsWith("LinqToDB", StringComparison.Ordinal) == true)
                return Noise.Storage;
            if (cause is SocketException or AuthenticationException || cause.GetType().Namespace?.StartsWith("DotNetty", StringComparison.Ordinal) == true)
                return Noise.Connection;
        }
        return Noise.None;
    }

    /// <summary>One line: level, time, source, the message's first line, and the innermost cause's type and message; no stack trace.</summary>
    internal static string Compact(LogEvent e, string kind, int heldBack)
    {
        var innermost = e.Cause;
        while (innermost?.InnerException is { } inner) innermost = inner;
        var text = e.Message?.ToString() ?? "";
        var firstLine = text.Split('\n', 2)[0].TrimEnd('\r');
        var cause = innermost is null ? "" : $" ({innermost.GetType().Name}: {SafeText.Escape(innermost.Message, 300)})";
        var held = heldBack > 0 ? $" [{heldBack} more like it held back]" : "";
        return $"[{e.LogLevel().ToString().Replace("Level", "").ToUpperInvariant()}][{e.Timestamp:MM/dd/yyyy HH:mm:ss.fff}Z][{kind}][{SafeText.Escape(e.LogSource, 200)}] " +
               $"{SafeText.Escape(firstLine, 300)}{cause}{held}";
    }
}
