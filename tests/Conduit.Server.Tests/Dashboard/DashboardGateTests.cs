using System.Net;
using Conduit.Server.Dashboard;
using Conduit.Server.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Xunit;

namespace Conduit.Server.Tests.Dashboard;

public sealed class DashboardGateTests
{
    private static HttpContext Request(string peer, string host, string method = "GET")
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(peer);
        context.Request.Host = new HostString(host);
        context.Request.Method = method;
        return context;
    }

    private static int? Status(DashboardGate.Admission admission) => (admission.Refusal as IStatusCodeHttpResult)?.StatusCode;

    [Theory(DisplayName = "without keys the dashboard is open only over loopback and only to an address or localhost in the Host header")]
    [InlineData("127.0.0.1", "127.0.0.1:8053", null)]
    [InlineData("::1", "[::1]:8053", null)]
    [InlineData("::ffff:127.0.0.1", "localhost:8053", null)]
    [InlineData("10.0.0.7", "10.0.0.5:8053", 403)]       // a listener on 0.0.0.0 (for probes) reached from the network
    [InlineData("127.0.0.1", "attacker.example:8053", 403)] // a DNS name rebound to 127.0.0.1
    public void OpenNode(string peer, string host, int? refused)
    {
        using var keys = KeyStore.Open();
        var gate = new DashboardGate(() => keys, new DashboardSessions(TimeProvider.System));
        var admission = gate.Admit(Request(peer, host));
        Assert.Equal(refused, Status(admission));
        if (refused is null) Assert.Equal(Identity.Anonymous, admission.Who);
    }

    [Fact(DisplayName = "until the node's client endpoint (and its key store) is up, everything is refused with 503")]
    public void Starting()
    {
        var gate = new DashboardGate(() => null, new DashboardSessions(TimeProvider.System));
        Assert.Equal(503, Status(gate.Admit(Request("127.0.0.1", "127.0.0.1:8053"))));
    }

    [Theory(DisplayName = "a POST needs the anti-CSRF token in its header, and an Origin header, when sent, must be the node's")]
    [InlineData("token", null, null)]
    [InlineData("token", "http://127.0.0.1:8053", null)]
    [InlineData(null, null, 403)]
    [InlineData("wrong", null, 403)]
    [InlineData("token", "http://evil.example", 403)]
    [InlineData("token", "http://127.0.0.1:9999", 403)]
    public void Csrf(string? header, string? origin, int? refused)
    {
        var context = Request("127.0.0.1", "127.0.0.1:8053", "POST");
        if (header is not null) context.Request.Headers[DashboardGate.CsrfHeader] = header;
        if (origin is not null) context.Request.Headers.Origin = origin;
        Assert.Equal(refused, (DashboardGate.CheckPost(context, "token") as IStatusCodeHttpResult)?.StatusCode);
    }
}
