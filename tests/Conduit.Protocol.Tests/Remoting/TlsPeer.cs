using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.Remote;
using Conduit.Protocol.Remoting;

namespace Conduit.Protocol.Tests.Remoting;

/// <summary>
/// A remoting-only ActorSystem on 127.0.0.1 (a free port) built from a <see cref="RemotingEndpoint"/>, with an echo
/// actor at <c>/user/echo</c> that keeps what it received, and the TLS refusals and association errors it saw.
/// </summary>
internal sealed class TlsPeer : IAsyncDisposable
{
    private const string Hocon = """
        akka.stdout-loglevel = OFF
        # A refused link is retried only after this; the tests never wait for it.
        akka.remote.retry-gate-closed-for = 1s
        """;

    private readonly TaskCompletionSource<AssociationErrorEvent> _associationError = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> _refusal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private TlsPeer(ActorSystem system, bool tls)
    {
        System = system;
        Tls = tls;
        System.ActorOf(Props.Create(() => new EchoActor(Received)), "echo");
        // Events are taken on the publishing thread, not by an actor: a system whose outbound TLS handshake fails is shut
        // down by Akka (1.5.73 runs CoordinatedShutdown from its TCP client handler), and an actor subscribed to the event
        // stream can be stopped with the refusal's warning still in its mailbox (seen under load: no refusal, no event).
        var provider = ((ExtendedActorSystem)System).Provider;
        var listener = new SyncListener(provider.TempPath(), provider, Note);
        System.EventStream.Subscribe(listener, typeof(RemotingLifecycleEvent));
        System.EventStream.Subscribe(listener, typeof(Warning));
        System.EventStream.Subscribe(listener, typeof(Error));
    }

    public ActorSystem System { get; }

    /// <summary>What this system's remoting said (lifecycle events, warnings, errors) with the time, for a failure's message.</summary>
    public ConcurrentQueue<string> Events { get; } = new();
    public bool Tls { get; }
    public ConcurrentQueue<object> Received { get; } = new();
    public int Port => ((ExtendedActorSystem)System).Provider.DefaultAddress.Port ?? 0;
    public string EchoPath => $"{RemotingEndpoint.Address(Tls, System.Name, "127.0.0.1", Port)}/user/echo";

    /// <summary>The first association error this system published.</summary>
    public Task<AssociationErrorEvent> AssociationError => _associationError.Task;

    /// <summary>The first "TLS: refused peer" warning of this system's certificate check.</summary>
    public Task<string> Refusal => _refusal.Task;

    public static TlsPeer Start(string name, TlsCredentials? tls, PeerPolicy peers = PeerPolicy.NodesOnly)
    {
        var endpoint = new RemotingEndpoint { Host = "127.0.0.1", Port = 0, Tls = tls, Peers = peers };
        return new TlsPeer(ActorSystem.Create(name, endpoint.ToActorSystemSetup(ConfigurationFactory.ParseString(Hocon).WithFallback(RemotingEndpoint.RemoteOnlyConfig()))), tls is not null);
    }

    /// <summary>Sends <paramref name="message"/> to <paramref name="target"/>'s echo and waits for it to come back.</summary>
    public Task<object> Echo(TlsPeer target, string message) =>
        System.ActorSelection(target.EchoPath).Ask<object>(message, TimeSpan.FromSeconds(10));

    /// <summary>Sends <paramref name="message"/> to <paramref name="target"/>'s echo, not waiting for anything.</summary>
    public void Send(TlsPeer target, string message) => System.ActorSelection(target.EchoPath).Tell(message);

    public async ValueTask DisposeAsync() => await System.Terminate().WaitAsync(TimeSpan.FromSeconds(10));

    private sealed class EchoActor : ReceiveActor
    {
        public EchoActor(ConcurrentQueue<object> received) => ReceiveAny(message =>
        {
            received.Enqueue(message);
            Sender.Tell(message);
        });
    }

    private void Note(object e)
    {
        var text = e.ToString()!;
        Events.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {text}");
        if (e is AssociationErrorEvent error) _associationError.TrySetResult(error);
        else if (e is Warning && text.Contains("TLS: refused peer", StringComparison.Ordinal)) _refusal.TrySetResult(text);
    }

    /// <summary>An event-stream subscriber that handles each event at once, on the thread that publishes it.</summary>
    private sealed class SyncListener(ActorPath path, IActorRefProvider provider, Action<object> onEvent) : MinimalActorRef
    {
        public override ActorPath Path => path;
        public override IActorRefProvider Provider => provider;
        protected override void TellInternal(object message, IActorRef sender) => onEvent(message);
    }
}
