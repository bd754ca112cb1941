using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Event;

namespace Conduit.Testing;

/// <summary>Keeps the warnings (and infos, where the log level lets them through) a node logs, to check what it records.</summary>
public sealed class LogCollector
{
    private readonly ConcurrentQueue<LogEvent> _events = new();

    public static LogCollector Attach(ActorSystem system)
    {
        var collector = new LogCollector();
        var actor = system.ActorOf(Props.Create(() => new Listener(collector._events)));
        system.EventStream.Subscribe(actor, typeof(Warning));
        system.EventStream.Subscribe(actor, typeof(Info));
        return collector;
    }

    public IReadOnlyList<string> Lines => _events.Select(e => e.Message?.ToString() ?? "").ToArray();

    /// <summary>The events themselves, with their sources and levels.</summary>
    public IReadOnlyList<LogEvent> Events => _events.ToArray();

    private sealed class Listener : ReceiveActor
    {
        public Listener(ConcurrentQueue<LogEvent> events) => Receive<LogEvent>(events.Enqueue);
    }
}
