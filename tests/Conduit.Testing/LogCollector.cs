using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Event;

namespace Conduit.Testing;

/// <summary>Keeps the warnings (and infos, where the log level lets them through) a node logs, to check what it records.</summary>
public sealed class LogCollector
{
    private readonly ConcurrentQueue<string> _lines = new();

    public static LogCollector Attach(ActorSystem system)
    {
        var collector = new LogCollector();
        var actor = system.ActorOf(Props.Create(() => new Listener(collector._lines)));
        system.EventStream.Subscribe(actor, typeof(Warning));
        system.EventStream.Subscribe(actor, typeof(Info));
        return collector;
    }

    public IReadOnlyList<string> Lines => _lines.ToArray();

    private sealed class Listener : ReceiveActor
    {
        public Listener(ConcurrentQueue<string> lines) => Receive<LogEvent>(e => lines.Enqueue(e.Message?.ToString() ?? ""));
    }
}
