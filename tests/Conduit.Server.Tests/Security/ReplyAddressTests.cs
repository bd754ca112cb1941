using Akka.Actor;
using Conduit.Protocol;
using Conduit.Protocol.Remoting;
using Conduit.Server.Diagnostics;
using Conduit.Testing;
using Xunit;

namespace Conduit.Server.Tests.Security;

/// <summary>
/// A request names its own reply address, and an authenticated peer can write any address there. The client endpoint
/// answers over the connections clients opened and never dials out, so a reply address that is no connected client
/// makes it dial nothing: not a host inside the network (plain TCP), and not a listener that fails the TLS handshake,
/// which made Akka.Remote stop the endpoint and so the node (docs/security.md, "Reply addresses").
/// </summary>
public sealed class ReplyAddressTests(TestCertificates certs) : IClassFixture<TestCertificates>
{
    private static readonly TimeSpan Quick = TimeSpan.FromSeconds(20);

    [Fact(DisplayName = "plain TCP: a reply address naming a host and port that is no connected client is not dialed; the endpoint keeps serving")]
    public async Task PlainReplyAddressIsNotDialed()
    {
        await using var node = await TestNode.StartAsync(TestStores.NewSqlite());
        await using var attacker = Attacker.Against(node.Port);
        await ForgedReplyIsNotDialed(node, attacker, tls: false);
    }

    [Fact(DisplayName = "mutual TLS: a reply address naming a listener that fails the handshake is not dialed; the endpoint and the node keep serving")]
    public async Task TlsReplyAddressIsNotDialed()
    {
        await using var node = await TestNode.StartAsync(TestStores.NewSqlite(), tls: TestCertificates.Settings(certs.NodeA, certs.CaA));
        using var credentials = TestCertificates.Load(certs.ClientA, certs.CaA);
        await using var attacker = Attacker.Against(node.Port, tls: credentials);
        await ForgedReplyIsNotDialed(node, attacker, tls: true);
    }

    private static async Task ForgedReplyIsNotDialed(TestNode node, Attacker attacker, bool tls)
    {
        var log = LogCollector.Attach(node.ClientEndpoint.System);
        // A listener that takes every connection and drops it once the dialer spoke: a TLS handshake with it fails.
        await using var listener = DroppingListener.Start(afterFirstBytes: true);
        var port = listener.Port;
        // The attacker is served first, so its own connection is up and the reply below has one to use if it were its own.
        Assert.IsType<QueueStats>(await attacker.Ask(attacker.Frontend, new GetQueueStats("reply-address")));

        var forged = ((ExtendedActorSystem)attacker.System).Provider.ResolveActorRef(
            $"{RemotingEndpoint.Address(tls, "elsewhere", "127.0.0.1", port)}/temp/forged");
        attacker.Frontend.Tell(new GetQueueStats("reply-address"), forged);

        // The endpoint tried to send the answer and refused to dial for it (or, if it dialed, the listener saw it).
        await Eventually.Holds(() =>
        {
            Assert.True(listener.Accepted > 0 || log.Lines.Any(l => l.Contains($"127.0.0.1:{port}") && l.Contains("does not dial")),
                "the answer to the forged address was neither refused nor sent");
            return Task.CompletedTask;
        });
        Assert.Equal(0, listener.Accepted);
        // Akka's warning about the gated address is a connection line to the node's logger: one a second at most.
        var refused = log.Events.First(e => e.Message?.ToString()?.Contains("does not dial") == true);
        Assert.Equal(NodeLogger.Noise.Connection, NodeLogger.Classify(refused));
        // The endpoint and the node still serve, this attacker and anyone else.
        Assert.IsType<QueueStats>(await attacker.Ask(attacker.Frontend, new GetQueueStats("reply-address"), Quick));
        Assert.False(node.ClientEndpoint.System.WhenTerminated.IsCompleted, "the client endpoint stopped");
        Assert.False(node.System.WhenTerminated.IsCompleted, "the node stopped");
    }
}
