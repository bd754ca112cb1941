using System.Net;
using System.Security.Cryptography;
using System.Text;
using Conduit.Server.Security;
using Microsoft.AspNetCore.Http;

namespace Conduit.Server.Dashboard;

/// <summary>
/// Who a dashboard request comes from, and whether it may go on.
/// <list type="bullet">
/// <item>On a node with API keys: the session of the <see cref="CookieName"/> cookie (<see cref="DashboardSessions"/>),
/// made by a login with a key that has the operator role; without one, 401. Every request is then checked against the
/// role table (<see cref="Permissions"/>) as the key's own requests over remoting are.</item>
/// <item>On a node without keys (auth off, as over remoting): everyone is <see cref="Identity.Anonymous"/>, but only over
/// a loopback connection (a listener bound to 0.0.0.0 for probes does not open the dashboard to the network; an SSH
/// tunnel arrives from loopback), and only when the request names the listener by an IP address or <c>localhost</c>
/// (<see cref="IsAddressHost"/>): a web page elsewhere cannot rebind its own domain name to 127.0.0.1 and read or act
/// through the victim's browser.</item>
/// <item>Every POST must carry the session's anti-CSRF token in <see cref="CsrfHeader"/> (a cross-site page cannot send
/// a custom header without a CORS preflight, which the node never grants, nor read the token), and an <c>Origin</c>
/// header, when sent, must be the node's own. The cookie is also SameSite=Strict.</item>
/// <item>The node's key store is the client endpoint's; until it has started, every request is refused (503).</item>
/// </list>
/// </summary>
/// <param name="keys">The node's key store now (<see cref="DashboardBackend.Keys"/>); null while it starts.</param>
internal sealed class DashboardGate(Func<KeyStore?> keys, DashboardSessions sessions)
{
    public const string CookieName = "conduit_session";
    public const string CsrfHeader = "X-Conduit-Csrf";
    private const string WhoItem = "conduit.dashboard.who";

    /// <summary>The outcome for one request: who makes it and the anti-CSRF token that goes with it, or the refusal.</summary>
    public readonly record struct Admission(Identity? Who, string? CsrfToken, IResult? Refusal, bool NeedsLogin = false);

    public Admission Admit(HttpContext context)
    {
        if (keys() is not { } store)
            return Refusal(Refused(StatusCodes.Status503ServiceUnavailable, ErrorCode.Unavailable, "the node is starting: its client endpoint is not up yet"));
        if (store.IsOpen)
        {
            if (!IsLoopback(context.Connection.RemoteIpAddress))
                return Refusal(Refused(StatusCodes.Status403Forbidden, ErrorCode.Unauthorized,
                    "this node has no API keys, so its dashboard answers only on this machine (loopback); " +
                    "give the node a keys file (--keys) to use it from elsewhere, or reach it over an SSH tunnel"));
            return IsAddressHost(context.Request.Host)
                ? new Admission(Identity.Anonymous, sessions.OpenCsrfToken, null)
                : Refusal(Refused(StatusCodes.Status403Forbidden, ErrorCode.Unauthorized,
                    "this node has no API keys, so its dashboard answers only to http://<IP address>:port or http://localhost:port " +
                    "(a page elsewhere could point its own name at this address); give the node a keys file to serve it under a host name"));
        }
        if (sessions.Find(context.Request.Cookies[CookieName], store) is not { } found)
            return Refusal(Refused(StatusCodes.Status401Unauthorized, ErrorCode.Unauthorized, "log in with an API key that has the operator role")) with { NeedsLogin = true };
        return new Admission(found.Who, found.Session.CsrfToken, null);
    }

    /// <summary>Null when a POST carries <paramref name="csrfToken"/> and comes from this origin; otherwise the 403 to send.</summary>
    public static IResult? CheckPost(HttpContext context, string csrfToken)
    {
        if (CrossOrigin(context) is { } crossOrigin) return crossOrigin;
        var sent = context.Request.Headers[CsrfHeader].ToString();
        if (sent.Length == 0 || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(sent), Encoding.UTF8.GetBytes(csrfToken)))
            return Refused(StatusCodes.Status403Forbidden, ErrorCode.Unauthorized,
                $"missing or wrong {CsrfHeader} header: reload the page (scripts get the token from GET /api/session)");
        return null;
    }

    /// <summary>403 when the request's <c>Origin</c> header names another origin than the node's; null otherwise (also without one).</summary>
    public static IResult? CrossOrigin(HttpContext context)
    {
        var origin = context.Request.Headers.Origin.ToString();
        return origin.Length > 0 && !SameOrigin(origin, context.Request)
            ? Refused(StatusCodes.Status403Forbidden, ErrorCode.Unauthorized, "a request from another origin")
            : null;
    }

    /// <summary>Keeps who an admitted request comes from for the handlers.</summary>
    public static void Remember(HttpContext context, Identity who) => context.Items[WhoItem] = who;

    /// <summary>Who the admitted request comes from (set by the API's filter before any handler runs).</summary>
    public static Identity Who(HttpContext context) =>
        context.Items[WhoItem] as Identity ?? throw new InvalidOperationException("a dashboard handler ran without the gate");

    /// <summary>The requester that audit lines name: the key (or <c>anonymous</c>) and the HTTP peer.</summary>
    public static Requester RequesterOf(HttpContext context) =>
        new(Who(context).Name, $"{context.Connection.RemoteIpAddress?.ToString() ?? "unknown"} (dashboard)");

    internal static bool IsLoopback(IPAddress? peer) =>
        peer is not null && IPAddress.IsLoopback(peer.IsIPv4MappedToIPv6 ? peer.MapToIPv4() : peer);

    /// <summary>Whether the Host header names an IP address or localhost (not a DNS name someone else controls).</summary>
    internal static bool IsAddressHost(HostString host) =>
        host.HasValue && (string.Equals(host.Host, "localhost", StringComparison.OrdinalIgnoreCase)
                          || IPAddress.TryParse(host.Host.Trim('[', ']'), out _));

    private static bool SameOrigin(string origin, HttpRequest request) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);

    private static Admission Refusal(IResult refusal) => new(null, null, refusal);

    public static IResult Refused(int status, ErrorCode code, string message) => DashboardJson.Error(status, code.ToString(), message);
}
