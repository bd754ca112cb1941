using Conduit.Protocol.Remoting;
using Conduit.Testing;
using Xunit;

namespace Conduit.Protocol.Tests.Remoting;

/// <summary>
/// Real ActorSystems over loopback with the TLS setup every Conduit system uses (<see cref="RemotingEndpoint"/>),
/// certificates from Conduit's own generator. A refused link is awaited through the refusing side's certificate
/// check (its "TLS: refused peer" warning) or, for a plain-TCP sender, its association error; never by waiting out a
/// timeout. (A TLS sender that is refused may learn of it only at Akka's handshake timeout, 15 s by default: TLS 1.3
/// lets the client finish its side before the server has judged the client's certificate.)
/// </summary>
public sealed class MutualTlsTests(TestCertificates certs) : IClassFixture<TestCertificates>
{
    private static readonly TimeSpan Quick = TimeSpan.FromSeconds(10);

    /// <summary>
    /// One TLS exchange and one refusal on each side before the first timed one of the process: the first handshake pays
    /// for the JIT of DotNetty's TLS and the first chain build (2-3 s alone, and more than <see cref="Quick"/> on a machine
    /// the whole suite keeps busy, which once failed a refusal test), and the first refusal on each side for its own
    /// paths (a chain that fails, the warning, the closed channel: a client's first refusal once took more than 10 s
    /// under the suite's load after only a successful exchange had warmed up). None of that is what the tests time.
    /// </summary>
    private static readonly Lazy<Task> WarmUp = new(async () =>
    {
        var slow = TimeSpan.FromMinutes(1);
        using var certificates = new TestCertificates();
        await using var a = TlsPeer.Start("warm-a", TestCertificates.Load(certificates.NodeA, certificates.CaA));
        await using var b = TlsPeer.Start("warm-b", TestCertificates.Load(certificates.NodeA2, certificates.CaA));
        await a.Echo(b, "warm").WaitAsync(slow);
        // The accepting side refuses a stranger; a client refuses a server of another CA.
        await using var stranger = TlsPeer.Start("warm-stranger", TestCertificates.Load(certificates.NodeB, certificates.CaBoth), PeerPolicy.AnyCertifiedPeer);
        await Refused(stranger, a, "refused", refusedBy: a, because: "", slow);
        // A fresh server: the stranger's own refused dial made Akka shut its system down (below, TlsPeer).
        await using var server = TlsPeer.Start("warm-server", TestCertificates.Load(certificates.NodeB, certificates.CaBoth), PeerPolicy.AnyCertifiedPeer);
        await using var client = TlsPeer.Start("warm-client", TestCertificates.Load(certificates.ClientA, certificates.CaA));
        await Refused(client, server, "refused", refusedBy: client, because: "", slow);
    });

    [Fact(DisplayName = "two node systems with certificates from the same CA exchange messages over mutual TLS")]
    public async Task NodesOfOneCaTalk()
    {
        await WarmUp.Value;
        await using var a = TlsPeer.Start("node-a", TestCertificates.Load(certs.NodeA, certs.CaA));
        await using var b = TlsPeer.Start("node-b", TestCertificates.Load(certs.NodeA2, certs.CaA));

        Assert.StartsWith("akka.ssl.tcp://", b.EchoPath);
        Assert.Equal("hello b", await a.Echo(b, "hello b"));
        Assert.Equal("hello a", await b.Echo(a, "hello a"));
        Assert.Equal(["hello b"], b.Received);
    }

    [Fact(DisplayName = "a system without TLS cannot deliver a message to a TLS system")]
    public async Task PlainSenderIsRefused()
    {
        await WarmUp.Value;
        await using var node = TlsPeer.Start("node", TestCertificates.Load(certs.NodeA, certs.CaA));
        await using var plain = TlsPeer.Start("plain", tls: null);

        // The plain system dials the node's port speaking plain TCP (it has no transport for akka.ssl.tcp at all).
        var target = plain.System.ActorSelection($"akka.tcp://node@127.0.0.1:{node.Port}/user/echo");
        target.Tell("let me in");

        await plain.AssociationError.WaitAsync(Quick);
        Assert.Empty(node.Received);
    }

    [Fact(DisplayName = "a node certificate from another CA is refused by the receiving node")]
    public async Task OtherCaIsRefused()
    {
        await WarmUp.Value;
        await using var node = TlsPeer.Start("node", TestCertificates.Load(certs.NodeA, certs.CaA));
        // The stranger trusts both CAs, so only the node's check can stop it.
        await using var stranger = TlsPeer.Start("stranger", TestCertificates.Load(certs.NodeB, certs.CaBoth));

        await Refused(stranger, node, "let me in", refusedBy: node, because: "does not chain to the Conduit CA");
    }

    [Fact(DisplayName = "a client certificate is refused by a nodes-only endpoint (the cluster system)")]
    public async Task ClientRefusedByClusterEndpoint()
    {
        await WarmUp.Value;
        await using var cluster = TlsPeer.Start("conduit-cluster", TestCertificates.Load(certs.NodeA, certs.CaA), PeerPolicy.NodesOnly);
        await using var client = TlsPeer.Start("client", TestCertificates.Load(certs.ClientA, certs.CaA), PeerPolicy.NodesOnly);

        await Refused(client, cluster, "let me in", refusedBy: cluster, because: "is a client certificate");
    }

    [Fact(DisplayName = "a client certificate is accepted by an any-certified-peer endpoint (the client endpoint), and the client accepts the node")]
    public async Task ClientAcceptedByClientEndpoint()
    {
        await WarmUp.Value;
        await using var endpoint = TlsPeer.Start("conduit", TestCertificates.Load(certs.NodeA, certs.CaA), PeerPolicy.AnyCertifiedPeer);
        await using var client = TlsPeer.Start("client", TestCertificates.Load(certs.ClientA, certs.CaA), PeerPolicy.NodesOnly);

        Assert.Equal("hello", await client.Echo(endpoint, "hello"));
        Assert.Equal(["hello"], endpoint.Received);
    }

    [Fact(DisplayName = "a client refuses a server whose certificate is from another CA")]
    public async Task ClientRefusesServerOfOtherCa()
    {
        await WarmUp.Value;
        // The server trusts both CAs, so it would let the client in: only the client's own check can stop the link.
        await using var server = TlsPeer.Start("conduit", TestCertificates.Load(certs.NodeB, certs.CaBoth), PeerPolicy.AnyCertifiedPeer);
        await using var client = TlsPeer.Start("client", TestCertificates.Load(certs.ClientA, certs.CaA), PeerPolicy.NodesOnly);

        await Refused(client, server, "for the real server only", refusedBy: client, because: "does not chain to the Conduit CA");
    }

    [Fact(DisplayName = "a client refuses a server that shows a client certificate of the right CA")]
    public async Task ClientRefusesClientPosingAsServer()
    {
        await WarmUp.Value;
        await using var impostor = TlsPeer.Start("conduit", TestCertificates.Load(certs.ClientA, certs.CaA), PeerPolicy.AnyCertifiedPeer);
        await using var client = TlsPeer.Start("client", TestCertificates.Load(certs.ClientA, certs.CaA), PeerPolicy.NodesOnly);

        await Refused(client, impostor, "for a node only", refusedBy: client, because: "is a client certificate");
    }

    [Fact(DisplayName = "while CAs rotate, a system trusting both CAs talks to nodes of either")]
    public async Task BundleOfTwoCasAdmitsBoth()
    {
        await WarmUp.Value;
        await using var rotated = TlsPeer.Start("rotated", TestCertificates.Load(certs.NodeB, certs.CaBoth));
        await using var old = TlsPeer.Start("old", TestCertificates.Load(certs.NodeA, certs.CaBoth));

        Assert.Equal("across", await old.Echo(rotated, "across"));
        Assert.Equal("back", await rotated.Echo(old, "back"));
    }

    /// <summary>
    /// <paramref name="from"/> sends <paramref name="to"/> a message; <paramref name="refusedBy"/> refuses the link (its log
    /// says <paramref name="because"/>) and <paramref name="to"/> never receives it.
    /// </summary>
    private static async Task Refused(TlsPeer from, TlsPeer to, string message, TlsPeer refusedBy, string because, TimeSpan? wait = null)
    {
        var quick = wait ?? Quick;
        var sentAt = DateTime.UtcNow;
        from.Send(to, message);
        try
        {
            Assert.Contains(because, await refusedBy.Refusal.WaitAsync(quick));
        }
        catch (TimeoutException)
        {
            Assert.Fail($"no refusal within {quick.TotalSeconds} s of {sentAt:HH:mm:ss.fff}; {from.System.Name} said:\n  " +
                        string.Join("\n  ", from.Events) + $"\n{to.System.Name} said:\n  " + string.Join("\n  ", to.Events));
        }
        Assert.Empty(to.Received);
    }
}
