using System.Collections;
using System.Data.Common;
using System.Net.Sockets;
using System.Security.Authentication;
using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;
using Akka.Hosting.Logging;
using Akka.Pattern;
using Akka.Util;
using Conduit.Protocol.Remoting;
using Microsoft.Extensions.Logging;
using MelLogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace Conduit.Server.Diagnostics;

/// <summary>
/// The Akka logger of both of a node's ActorSystems (the cluster and the client endpoint): Akka's log events go to
/// Microsoft.Extensions.Logging (the <see cref="ILoggerFactory"/> of the host, from Akka.Hosting's
/// <see cref="LoggerFactorySetup"/>), so the node's own lines and Akka's share one format (text or JSON) and one set of
/// level filters. The category is the class that logged (<c>Akka.Remote.Transport.DotNetty.TcpServerHandler</c>,
/// <c>Conduit.Server.Matching.QueuePartition</c>); the named properties of a message template (<c>{TaskId}</c>,
/// <c>{Queue}</c>, <c>{Partition}</c>) and the log source (<c>ActorPath</c>) are structured fields of the entry.
/// <para>
/// Two kinds of line come in floods and say the same thing each time, and are cut down before they reach the logger
/// factory: a connection that is not a well-formed peer (a port scan, a health probe, garbage, a refused TLS handshake,
/// a silent connection whose Akka handshake times out) gets one line without a stack trace, at most one a second for the
/// whole system; a storage error (the database down, the journal's circuit breaker open) gets one line without a stack
/// trace per actor at most every <see cref="StorageInterval"/>. Held-back lines are counted in the next line written. Text from the network is escaped.
/// Without a logger factory (an ActorSystem built by hand) lines go to the console as Akka's default logger writes them.
/// </para>
/// </summary>
public sealed class NodeLogger : ActorBase, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    /// <summary>One connection line a second for the whole system.</summary>
    public static readonly TimeSpan ConnectionInterval = TimeSpan.FromSeconds(1);
    /// <summary>One storage line per actor (a partition's writer, say) every 30 s.</summary>
    public static readonly TimeSpan StorageInterval = TimeSpan.FromSeconds(30);

    private readonly LogThrottle _connections = new(ConnectionInterval);
    private readonly LogThrottle _storage = new(StorageInterval);
    private readonly ILoggerFactory? _factory;
    private readonly Dictionary<string, ILogger> _loggers = new(StringComparer.Ordinal);
    /// <summary>The system's log filters (<see cref="LogFilterSetup"/>, e.g. the shard region's drop lines): loggers apply them, not the event stream.</summary>
    private readonly LogFilterEvaluator? _filter;

    public NodeLogger()
    {
        var setup = Context.System.Settings.Setup.Get<LoggerFactorySetup>();
        _factory = setup.HasValue ? setup.Value.LoggerFactory : null;
        var filters = Context.System.Settings.Setup.Get<LogFilterSetup>();
        _filter = filters.HasValue ? filters.Value.CreateEvaluator() : null;
    }

    protected override bool Receive(object message)
    {
        switch (message)
        {
            case InitializeLogger:
                Sender.Tell(new LoggerInitialized());
                return true;
            case LogEvent e:
                Write(e);
                return true;
            default:
                return false;
        }
    }

    private void Write(LogEvent e)
    {
        if (_filter is not null && !_filter.ShouldTryKeepMessage(e, out _)) return;
        switch (Classify(e))
        {
            case Noise.Connection:
                if (_connections.Allow("connection", e.Timestamp, out var held)) WriteCompact(e, "connection", held);
                break;
            case Noise.Storage:
                if (_storage.Allow(StorageKey(e.LogSource), e.Timestamp, out held)) WriteCompact(e, "storage", held);
                break;
            default:
                if (_factory is null)
                {
                    StandardOutWriter.WriteLine(ClientSystemName.Redact(e.ToString()));
                    break;
                }
                var entry = new AkkaEntry(e);
                LoggerFor(e).Log(LevelOf(e), default, entry, RedactedException.Of(e.Cause), static (state, _) => state.Text);
                break;
        }
    }

    private void WriteCompact(LogEvent e, string kind, int heldBack)
    {
        if (_factory is null)
        {
            StandardOutWriter.WriteLine(Compact(e, kind, heldBack));
            return;
        }
        var entry = new AkkaEntry(e, CompactMessage(e, kind, heldBack), kind, heldBack);
        LoggerFor(e).Log(LevelOf(e), default, entry, null, static (state, _) => state.Text);
    }

    private ILogger LoggerFor(LogEvent e)
    {
        // Lines logged with a string source (remoting, the cluster) have no class of their own: "Akka", their source in ActorPath.
        var category = e.LogClass is { } type && type.Name != "DummyClassForStringSources" ? type.FullName ?? "Akka" : "Akka";
        if (!_loggers.TryGetValue(category, out var logger))
        {
            if (_loggers.Count > 1_000) _loggers.Clear();
            _loggers[category] = logger = _factory!.CreateLogger(category);
        }
        return logger;
    }

    private static MelLogLevel LevelOf(LogEvent e) => e.LogLevel() switch
    {
        Akka.Event.LogLevel.DebugLevel => MelLogLevel.Debug,
        Akka.Event.LogLevel.InfoLevel => MelLogLevel.Information,
        Akka.Event.LogLevel.WarningLevel => MelLogLevel.Warning,
        _ => MelLogLevel.Error,
    };

    /// <summary>
    /// The state of one entry: the message's named template properties, the log source (<c>ActorPath</c>), the template
    /// (<c>{OriginalFormat}</c>) and, for a cut-down flood line, its kind and the count held back. Positional arguments
    /// (<c>{0}</c>) are not fields: they have no names.
    /// </summary>
    private sealed class AkkaEntry : IReadOnlyList<KeyValuePair<string, object?>>
    {
        private readonly List<KeyValuePair<string, object?>> _fields = [];

        public AkkaEntry(LogEvent e, string? text = null, string? flood = null, int heldBack = 0)
        {
            Text = text ?? ClientSystemName.Redact(e.Message?.ToString() ?? "");
            if (e.Message is LogMessage message)
            {
                foreach (var (name, value) in message.GetProperties())
                    if (name.Length > 0 && !char.IsDigit(name[0])) AddField(name, value);
            }
            _fields.Add(new("{OriginalFormat}", text is null && e.Message is LogMessage m
                ? ClientSystemName.Redact(m.Format)
                : Text.Replace("{", "{{", StringComparison.Ordinal).Replace("}", "}}", StringComparison.Ordinal)));
            _fields.Add(new("ActorPath", ClientSystemName.Redact(e.LogSource)));
            if (flood is not null)
            {
                _fields.Add(new("Flood", flood));
                _fields.Add(new("HeldBack", heldBack));
            }
        }

        /// <summary>
        /// A field; a partition id or task id also gives the partition's <c>Namespace</c> and <c>Queue</c> (and a task id
        /// its <c>Partition</c>), so every line about a partition or task can be found by queue.
        /// </summary>
        private void AddField(string name, object? value)
        {
            switch (value)
            {
                case PartitionId partition:
                    _fields.Add(new(name, partition.EntityId));
                    AddPartition(partition, withId: name != "Partition");
                    break;
                case TaskId task:
                    _fields.Add(new(name, task.ToString()));
                    AddPartition(task.Partition, withId: true);
                    break;
                case null or ValueType:
                    _fields.Add(new(name, value));
                    break;
                default:
                    // Text, addresses, actor references, paths, anything else: as its text, without the random part of a
                    // client's system name (a provider that took the object apart could print it).
                    _fields.Add(new(name, ClientSystemName.Redact(value.ToString() ?? "")));
                    break;
            }
        }

        private void AddPartition(PartitionId partition, bool withId)
        {
            if (withId && !Has("Partition")) _fields.Add(new("Partition", partition.EntityId));
            if (!Has("Namespace")) _fields.Add(new("Namespace", partition.Namespace));
            if (!Has("Queue")) _fields.Add(new("Queue", partition.Queue));
        }

        private bool Has(string name) => _fields.Exists(f => f.Key == name);

        public string Text { get; }
        public int Count => _fields.Count;
        public KeyValuePair<string, object?> this[int index] => _fields[index];
        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => _fields.GetEnumerator();
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
        public override string ToString() => Text;
    }

    internal enum Noise { None, Connection, Storage }

    /// <summary>
    /// A cause as written: the original, or, when its text names a client's system with its random part, a stand-in whose
    /// text (type, message, stack) leaves that part out (<see cref="ClientSystemName"/>).
    /// </summary>
    internal sealed class RedactedException : Exception
    {
        private readonly string _text;

        private RedactedException(Exception original, string text) : base(ClientSystemName.Redact(original.Message)) => _text = text;

        public static Exception? Of(Exception? cause)
        {
            if (cause is null) return null;
            var text = cause.ToString();
            var redacted = ClientSystemName.Redact(text);
            return text == redacted ? cause : new RedactedException(cause, redacted);
        }

        public override string ToString() => _text;
    }

    /// <summary>
    /// The actor a storage line is counted against: a partition's writer gets a new name each time it starts
    /// (<c>…/default%2Fq%230/writer-1a2b3c4d</c>), and so does a shard's remember-entities store restarted while the
    /// database is down (<c>…/partitions/17/RememberEntitiesStore/store-3</c>, <see cref="Hosting.RetryingStore"/>), so
    /// their lines count against the partition or the store's keeper.
    /// </summary>
    internal static string StorageKey(string? source)
    {
        if (source is null) return "";
        var slash = source.LastIndexOf('/');
        if (slash <= 0) return source;
        var name = source.AsSpan(slash + 1);
        return name.StartsWith("writer-", StringComparison.Ordinal) || name.StartsWith(Hosting.RetryingStore.StoreNamePrefix, StringComparison.Ordinal)
            ? source[..slash] : source;
    }

    /// <summary>
    /// The log source of the client endpoint's remoting: its warnings are about clients' connections and the addresses
    /// requests name for their answers (an answer to an address without a connection is dropped and the address gated; a
    /// dropped connection gates its address, <see cref="Gateway.DroppedClients"/>), which any client can cause at will.
    /// Its errors are not cut down.
    /// </summary>
    private const string ClientEndpointRemoting = "remoting (akka://" + Conduit.Protocol.WireNames.ClientSystemName + ")";

    /// <summary>
    /// The class of Akka's handshake, one actor per connection: its lines are about one connection each, the most
    /// common "No response from remote for inbound association. Handshake timed out", which anyone who opens a
    /// connection and sends nothing causes (one error line per connection, 15 s later, before this was cut down).
    /// </summary>
    private const string HandshakeClass = "Akka.Remote.Transport.ProtocolStateActor";

    /// <summary>
    /// Which flood, if any, a warning or error belongs to: by its source (remoting's channel handlers, the client
    /// endpoint's remoting), its class (Akka's handshake, the connection gates' refusals) or its cause.
    /// </summary>
    internal static Noise Classify(LogEvent e)
    {
        if (e is not (Error or Warning)) return Noise.None;
        var source = e.LogSource ?? "";
        if (source.Contains("TcpServerHandler", StringComparison.Ordinal) || source.Contains("TcpClientHandler", StringComparison.Ordinal)
            || source.Contains("DotNettyTransport", StringComparison.Ordinal)
            || (e is Warning && source.StartsWith(ClientEndpointRemoting, StringComparison.Ordinal))
            || e.LogClass?.FullName == HandshakeClass
            || e.LogClass == typeof(Conduit.Protocol.Remoting.ConnectionGates))
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

    /// <summary>One line: level, time, then <see cref="CompactMessage"/>; as written to the console without a logger factory.</summary>
    internal static string Compact(LogEvent e, string kind, int heldBack) =>
        $"[{e.LogLevel().ToString().Replace("Level", "").ToUpperInvariant()}][{e.Timestamp:MM/dd/yyyy HH:mm:ss.fffZ}]{CompactMessage(e, kind, heldBack)}";

    /// <summary>Kind, source, the message's first line, and the innermost cause's type and message; no stack trace, all escaped.</summary>
    internal static string CompactMessage(LogEvent e, string kind, int heldBack)
    {
        var innermost = e.Cause;
        while (innermost?.InnerException is { } inner) innermost = inner;
        // Redacted before escaping and cutting, which could cut a client's name inside its random part.
        var text = ClientSystemName.Redact(e.Message?.ToString() ?? "");
        var firstLine = text.Split('\n', 2)[0].TrimEnd('\r');
        var cause = innermost is null ? "" : $" ({innermost.GetType().Name}: {SafeText.Escape(ClientSystemName.Redact(innermost.Message), 300)})";
        var held = heldBack > 0 ? $" [{heldBack} more like it held back]" : "";
        return $"[{kind}][{SafeText.Escape(ClientSystemName.Redact(e.LogSource), 200)}] {SafeText.Escape(firstLine, 300)}{cause}{held}";
    }
}
