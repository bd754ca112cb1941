using Conduit.Protocol.Remoting;
using Xunit;

namespace Conduit.Protocol.Tests.Remoting;

public sealed class RemotingEndpointTests
{
    [Fact(DisplayName = "a public host is announced as public-hostname; anything but a host name is refused before it reaches the HOCON")]
    public void PublicHost()
    {
        var announced = new RemotingEndpoint { Host = "127.0.0.1", PublicHost = "web-1-3fa2c1" }.ToConfig();
        Assert.Equal("web-1-3fa2c1", announced.GetString("akka.remote.dot-netty.tcp.public-hostname"));
        Assert.False(new RemotingEndpoint { Host = "127.0.0.1" }.ToConfig().HasPath("akka.remote.dot-netty.tcp.public-hostname"));
        Assert.Throws<ArgumentException>(() => new RemotingEndpoint { Host = "127.0.0.1", PublicHost = "x\"\nakka.loglevel = DEBUG" }.ToHocon());
        Assert.Throws<ArgumentException>(() => new RemotingEndpoint { Host = "127.0.0.1", PublicHost = "" }.ToHocon());
    }

    [Fact(DisplayName = "an inbound-only endpoint wraps Akka's TCP transport; others keep Akka's")]
    public void InboundOnly()
    {
        var inbound = new RemotingEndpoint { Host = "127.0.0.1", InboundOnly = true }.ToConfig();
        Assert.StartsWith("Conduit.Protocol.Remoting.InboundOnlyTransport, ", inbound.GetString("akka.remote.dot-netty.tcp.transport-class"));
        Assert.Equal("Akka.Remote.Transport.DotNetty.TcpTransport, Akka.Remote", inbound.GetString("akka.remote.dot-netty.tcp.conduit-wrapped-transport-class"));
        Assert.True(inbound.GetBoolean("akka.remote.use-passive-connections"));
        Assert.False(new RemotingEndpoint { Host = "127.0.0.1" }.ToConfig().HasPath("akka.remote.dot-netty.tcp.transport-class"));
    }

    [Fact(DisplayName = "an outbound-only endpoint wraps Akka's TCP transport in the one that takes no connections; no endpoint is both")]
    public void OutboundOnly()
    {
        var outbound = new RemotingEndpoint { Host = "127.0.0.1", OutboundOnly = true }.ToConfig();
        Assert.StartsWith("Conduit.Protocol.Remoting.OutboundOnlyTransport, ", outbound.GetString("akka.remote.dot-netty.tcp.transport-class"));
        Assert.Equal("Akka.Remote.Transport.DotNetty.TcpTransport, Akka.Remote", outbound.GetString("akka.remote.dot-netty.tcp.conduit-wrapped-transport-class"));
        Assert.Throws<ArgumentException>(() => new RemotingEndpoint { Host = "127.0.0.1", InboundOnly = true, OutboundOnly = true }.ToHocon());
    }

    [Fact(DisplayName = "connection limits wrap Akka's TCP transport in the guarded one, or in the one-way one that has them too; limits below 1 are refused before the HOCON")]
    public void Limits()
    {
        var limited = new RemotingEndpoint { Host = "127.0.0.1", Limits = new ConnectionLimits(10, 3) }.ToConfig();
        Assert.StartsWith("Conduit.Protocol.Remoting.GuardedTransport, ", limited.GetString("akka.remote.dot-netty.tcp.transport-class"));
        Assert.Equal("Akka.Remote.Transport.DotNetty.TcpTransport, Akka.Remote", limited.GetString("akka.remote.dot-netty.tcp.conduit-wrapped-transport-class"));
        Assert.Equal(10, limited.GetInt("akka.remote.dot-netty.tcp.conduit-max-connections"));
        Assert.Equal(3, limited.GetInt("akka.remote.dot-netty.tcp.conduit-max-connections-per-address"));

        var inbound = new RemotingEndpoint { Host = "127.0.0.1", InboundOnly = true, Limits = new ConnectionLimits(10, 3) }.ToConfig();
        Assert.StartsWith("Conduit.Protocol.Remoting.InboundOnlyTransport, ", inbound.GetString("akka.remote.dot-netty.tcp.transport-class"));
        Assert.Equal(10, inbound.GetInt("akka.remote.dot-netty.tcp.conduit-max-connections"));
        Assert.True(inbound.GetBoolean("akka.remote.use-passive-connections"));

        Assert.Throws<ArgumentOutOfRangeException>(() => new RemotingEndpoint { Host = "127.0.0.1", Limits = new ConnectionLimits(0, 1) }.ToHocon());
        Assert.Throws<ArgumentOutOfRangeException>(() => new RemotingEndpoint { Host = "127.0.0.1", Limits = new ConnectionLimits(2, 0) }.ToHocon());
    }

    [Fact(DisplayName = "a handshake timeout is Akka's connection-timeout; without one, Akka's default stands; not positive is refused")]
    public void HandshakeTimeout()
    {
        var endpoint = new RemotingEndpoint { Host = "127.0.0.1", HandshakeTimeout = TimeSpan.FromSeconds(5) }.ToConfig();
        Assert.Equal(TimeSpan.FromSeconds(5), endpoint.GetTimeSpan("akka.remote.dot-netty.tcp.connection-timeout", null));
        Assert.False(new RemotingEndpoint { Host = "127.0.0.1" }.ToConfig().HasPath("akka.remote.dot-netty.tcp.connection-timeout"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RemotingEndpoint { Host = "127.0.0.1", HandshakeTimeout = TimeSpan.Zero }.ToHocon());
    }

    [Theory(DisplayName = "a connection counts against its IPv4 address (IPv4-mapped IPv6 too), or its IPv6 address's /64")]
    [InlineData("10.1.2.3", "10.1.2.3")]
    [InlineData("::ffff:10.1.2.3", "10.1.2.3")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::")]
    [InlineData("::1", "::")]
    public void SourceOf(string remote, string source) =>
        Assert.Equal(System.Net.IPAddress.Parse(source), ConnectionLimits.SourceOf(System.Net.IPAddress.Parse(remote)));
}
