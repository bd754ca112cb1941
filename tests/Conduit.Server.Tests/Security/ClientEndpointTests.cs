using Akka.Actor;
using Akka.Dispatch.SysMsg;
using Conduit.Protocol;
using Conduit.Server.Tests.Conformance;
using Conduit.Testing;
using Xunit;

namespace Conduit.Server.Tests.Security;

/// <summary>
/// Over real remoting, someone who reaches a node's client port (an <see cref="Attacker"/>) tries what used to stop or
/// take over the node: <c>PoisonPill</c>, <c>Kill</c> and <c>Terminate</c>/<c>Suspend</c> system messages to the gateways,
/// the endpoint's guardian and its remoting actors, selections of the cluster's insides (<c>/system/sharding/...</c>, the
/// cluster daemon that joins nodes), and replies forged to land in the cluster.
/// Remoting delivers in order over one association, so a request sent after an attack and answered proves the attack was
/// handled (dropped) first: no waiting for "nothing happened".
/// </summary>
public sealed class ClientEndpointTests(SqliteNodeFixture fixture) : IClassFixture<SqliteNodeFixture>
{
    private static readonly TimeSpan Quick = TimeSpan.FromSeconds(20);

    private TestNode Node => fixture.Node;

    [Fact(DisplayName = "PoisonPill and Kill to /user/frontend on the client port stop nothing; the frontend keeps answering")]
    public async Task HarmfulMessagesAreDropped()
    {
        await using var attacker = Attacker.Against(Node.Port);
        var gateway = (await attacker.Frontend.Ask<ActorIdentity>(new Identify(1), Quick)).Subject;
        Assert.NotNull(gateway);

        attacker.Frontend.Tell(PoisonPill.Instance);
        attacker.Frontend.Tell(Kill.Instance);
        gateway.Tell(PoisonPill.Instance);
        gateway.Tell(Kill.Instance);
        Assert.IsType<QueueStats>(await attacker.Ask(attacker.Frontend, new GetQueueStats("harmful")));
        Assert.IsType<QueueStats>(await attacker.Ask(attacker.Frontend, new GetQueueStats("harmful")));

        // The management gateway too.
        attacker.Management.Tell(PoisonPill.Instance);
        attacker.Management.Tell(Kill.Instance);
        Assert.IsType<ClusterState>(await attacker.Ask(attacker.Management, new GetClusterState()));
        // And the cluster's own actors behind the gateways were never reachable.
        Assert.False(Node.Frontend.IsNobody());
        Assert.IsType<QueueStats>(await Node.Frontend.Ask<object>(new GetQueueStats("harmful"), Quick));
    }

    [Theory(DisplayName = "Kill to the client endpoint's guardian or remoting actors, and Suspend or Terminate system messages, stop and freeze nothing; the endpoint keeps serving")]
    [InlineData("/user")]
    [InlineData("/system/endpointManager")]
    [InlineData("/system")]
    [InlineData("/")]
    [InlineData("/user/frontend")]
    public async Task KillAndSystemMessagesAreRefused(string path)
    {
        await using (var attacker = Attacker.Against(Node.Port))
        {
            var provider = ((ExtendedActorSystem)attacker.System).Provider;
            var target = provider.ResolveActorRef($"{attacker.ClientEndpoint}{path}");
            target.Tell(Kill.Instance);
            target.Tell(PoisonPill.Instance);
            // Kill and PoisonPill are refused one by one and the connection stays up, so this answer comes after them.
            Assert.IsType<QueueStats>(await attacker.Ask(attacker.Frontend, new GetQueueStats("kill-suspend")));
            // A refused system message breaks the sender's own connection (Akka's system-message channel is sequenced).
            ((IInternalActorRef)target).SendSystemMessage(new Suspend());
            ((IInternalActorRef)target).SendSystemMessage(new Terminate());
        }
        Assert.False(Node.ClientEndpoint.System.WhenTerminated.IsCompleted, "the client endpoint stopped");
        // Everyone else is still served by both gateways.
        await using var fresh = Attacker.Against(Node.Port);
        Assert.IsType<QueueStats>(await fresh.Ask(fresh.Frontend, new GetQueueStats("kill-suspend")));
        Assert.IsType<ClusterState>(await fresh.Ask(fresh.Management, new GetClusterState()));
    }

    [Fact(DisplayName = "a request whose reply address names a node's cluster system is dropped: the endpoint delivers nothing into the cluster")]
    public async Task ForgedReplyAddressIsDropped()
    {
        var log = LogCollector.Attach(Node.System);
        var victim = Node.System.ActorOf(Props.Create(() => new Collector()), "victim-" + Guid.NewGuid().ToString("N")[..8]);
        await using var attacker = Attacker.Against(Node.Port, Node.ClusterPort);
        var forged = ((ExtendedActorSystem)attacker.System).Provider.ResolveActorRef($"{attacker.ClusterEndpoint}{victim.Path.ToStringWithoutAddress()}");

        attacker.Frontend.Tell(new GetQueueStats("forged-reply"), forged);
        attacker.Management.Tell(new OperatorRequest(new PurgeQueue("forged-reply"), new Requester("x", "y")), forged);

        await Eventually.Holds(() =>
        {
            Assert.Contains(log.Lines, l => l.Contains("its reply address names a Conduit node"));
            return Task.CompletedTask;
        });
        var seen = await victim.Ask<object[]>(new Collector.Dump(), Quick);
        Assert.Empty(seen);
        Assert.DoesNotContain(log.Lines, l => l.Contains("purged queue default/forged-reply"));
    }

    [Fact(DisplayName = "queue administration sent straight to the frontend gateway is audited like an operator request")]
    public async Task FrontendAdministrationIsAudited()
    {
        var log = LogCollector.Attach(Node.System);
        await using var attacker = Attacker.Against(Node.Port);
        Assert.IsType<QueuePurged>(await attacker.Ask(attacker.Frontend, new PurgeQueue("frontend-audit")));
        var peer = ((ExtendedActorSystem)attacker.System).Provider.DefaultAddress;
        Assert.Contains(log.Lines, l => l.Contains($"Operator anonymous@{peer} purged queue default/frontend-audit"));
    }

    [Fact(DisplayName = "an operator request without a request is refused at once")]
    public async Task OperatorRequestWithoutRequest()
    {
        await using var attacker = Attacker.Against(Node.Port);
        Assert.Equal(ErrorCode.InvalidArgument, await attacker.Refusal(attacker.Management, new OperatorRequest(null!, new Requester("a", "b")), TimeSpan.FromSeconds(10)));
    }

    [Theory(DisplayName = "the client port answers only the two gateways: selections of the cluster's insides and Akka's system actors are dropped unanswered")]
    [InlineData("/system/sharding/partitions")]
    [InlineData("/system/cluster/core/daemon")]
    [InlineData("/system/remote-watcher")]
    [InlineData("/system/deadLetterListener")]
    [InlineData("/user")]
    [InlineData("/user/frontend/..")]
    [InlineData("/user/*")]
    public async Task OnlyGatewaysAreSelectable(string path)
    {
        await using var attacker = Attacker.Against(Node.Port);
        var probe = attacker.System.ActorOf(Props.Create(() => new Collector()));
        attacker.OnClientEndpoint(path).Tell(new Identify("untrusted"), probe);
        attacker.OnClientEndpoint(path).Tell(new GetQueueStats("insides"), probe);
        attacker.Frontend.Tell(new Identify("trusted"), probe);

        var received = await probe.Ask<object[]>(Collector.WaitFor<ActorIdentity>(i => "trusted".Equals(i.MessageId)), Quick);
        Assert.Single(received);
    }

    [Fact(DisplayName = "a queue request sent to the management gateway, or an operator request to the frontend gateway, is refused with InvalidArgument")]
    public async Task WrongGatewayIsRefused()
    {
        await using var attacker = Attacker.Against(Node.Port);
        Assert.Equal(ErrorCode.InvalidArgument, await attacker.Refusal(attacker.Management, new GetQueueStats("wrong-door")));
        Assert.Equal(ErrorCode.InvalidArgument, await attacker.Refusal(attacker.Frontend, new GetClusterState()));
        Assert.Equal(ErrorCode.InvalidArgument, await attacker.Refusal(attacker.Frontend, new PartitionEnvelope("default/q#0", new GetQueueStats("q"))));
    }

    [Fact(DisplayName = "the audit line of an operator request names who the node saw and the peer's address, not what the sender wrote")]
    public async Task RequesterIsNotSelfDeclared()
    {
        var log = LogCollector.Attach(Node.System);
        await using var attacker = Attacker.Against(Node.Port);
        // Accepted (no keys: everyone is the anonymous operator), logged with the sender's remoting address as the peer;
        // the forged name with its line break never reaches the node's log.
        var reply = await attacker.Ask(attacker.Management,
            new OperatorRequest(new PurgeQueue("requester"), new Requester("root\nINFO forged line", "nowhere")));
        Assert.IsType<QueuePurged>(reply);
        var peer = ((ExtendedActorSystem)attacker.System).Provider.DefaultAddress;
        var line = Assert.Single(log.Lines, l => l.Contains("purged queue default/requester"));
        Assert.Contains($"anonymous@{peer}", line);
        Assert.DoesNotContain("forged", line);
    }

    /// <summary>Collects every message until one matching the condition arrives, then answers the asker with all of them.</summary>
    private sealed class Collector : ReceiveActor
    {
        public sealed record Until(Func<object, bool> Done);

        /// <summary>Answered with everything received so far.</summary>
        public sealed record Dump;

        public static Until WaitFor<T>(Func<T, bool> done) => new(m => m is T t && done(t));

        private readonly List<object> _seen = [];
        private (IActorRef Asker, Until Until)? _waiting;

        public Collector()
        {
            Receive<Dump>(_ => Sender.Tell(_seen.ToArray()));
            Receive<Until>(until =>
            {
                _waiting = (Sender, until);
                Check();
            });
            ReceiveAny(m =>
            {
                _seen.Add(m);
                Check();
            });
        }

        private void Check()
        {
            if (_waiting is { } w && _seen.Any(w.Until.Done)) w.Asker.Tell(_seen.ToArray());
        }
    }
}
