using System.Collections.Frozen;
using System.Text.Json;
using Conduit.Protocol.Security;
using Conduit.Server.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Conduit.Server.Dashboard;

/// <summary>
/// The web dashboard on the node's HTTP listener: pages under <see cref="PagesPath"/> (plain HTML, CSS and ES modules
/// embedded in this assembly; no CDN), the JSON API under <see cref="ApiPath"/> (<see cref="DashboardApi"/>), login and
/// logout (<see cref="DashboardGate"/>, <see cref="DashboardSessions"/>), and a sampler that keeps the last minutes of
/// queue depth (<see cref="QueueSampler"/>). Every response under those paths carries a strict Content-Security-Policy
/// (no inline script, nothing from elsewhere) and the usual hardening headers.
/// </summary>
public static class DashboardEndpoints
{
    public const string PagesPath = "/ui";
    public const string ApiPath = "/api";

    /// <summary>The headers every dashboard response carries.</summary>
    internal static readonly FrozenDictionary<string, string> SecurityHeaders = new Dictionary<string, string>
    {
        ["Content-Security-Policy"] = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ["X-Content-Type-Options"] = "nosniff",
        ["X-Frame-Options"] = "DENY",
        ["Referrer-Policy"] = "no-referrer",
        ["Cache-Control"] = "no-store",
    }.ToFrozenDictionary();

    private static readonly FrozenDictionary<string, string> Pages = new Dictionary<string, string>
    {
        [""] = "index.html",
        ["queue"] = "queue.html",
        ["task"] = "task.html",
        ["schedules"] = "schedules.html",
        ["login"] = "login.html",
    }.ToFrozenDictionary();

    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
    }.ToFrozenDictionary();

    private const string ResourcePrefix = "Conduit.Dashboard.";

    /// <summary>The dashboard's services: the sessions, the gate, the history and its sampler. Call before building the app.</summary>
    public static IServiceCollection AddConduitDashboard(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<DashboardBackend>();
        services.AddSingleton<DashboardSessions>();
        services.AddSingleton(provider =>
        {
            var backend = provider.GetRequiredService<DashboardBackend>();
            return new DashboardGate(() => backend.Keys, provider.GetRequiredService<DashboardSessions>());
        });
        services.AddSingleton(new QueueHistory());
        services.AddHostedService<QueueSampler>();
        return services;
    }

    /// <summary>Mounts the pages, the assets and the API (needs <see cref="AddConduitDashboard"/>); <c>/</c> leads to the overview.</summary>
    public static WebApplication MapConduitDashboard(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            var path = context.Request.Path;
            if (path.StartsWithSegments(PagesPath) || path.StartsWithSegments(ApiPath) || path == "/")
                foreach (var (name, value) in SecurityHeaders) context.Response.Headers[name] = value;
            await next(context);
        });

        app.MapGet("/", () => Results.Redirect(PagesPath + "/"));
        app.MapGet(PagesPath + "/{page?}", Page);
        app.MapGet(PagesPath + "/assets/{file}", Asset);

        app.MapGet(ApiPath + "/session", Session);
        app.MapPost(ApiPath + "/login", Login);
        app.MapPost(ApiPath + "/logout", Logout);
        var api = app.MapGroup(ApiPath).AddEndpointFilter(async (invocation, next) =>
        {
            var context = invocation.HttpContext;
            var admission = context.RequestServices.GetRequiredService<DashboardGate>().Admit(context);
            if (admission.Refusal is { } refused) return refused;
            if (HttpMethods.IsPost(context.Request.Method) && DashboardGate.CheckPost(context, admission.CsrfToken!) is { } forged) return forged;
            DashboardGate.Remember(context, admission.Who!);
            return await next(invocation);
        });
        DashboardApi.Map(api);
        return app;
    }

    /// <summary>A page: static HTML (its data comes from the API). Without a session on a keyed node, the login page.</summary>
    private static IResult Page(HttpContext context, DashboardGate gate, string? page)
    {
        if (!Pages.TryGetValue(page ?? "", out var file)) return Results.NotFound();
        if (file != "login.html" && gate.Admit(context) is { Refusal: { } refused } admission)
            return admission.NeedsLogin ? Results.Redirect($"{PagesPath}/login") : refused;
        return Embedded(file);
    }

    private static IResult Asset(string file) =>
        file.Contains('/') || file.Contains('\\') || file.EndsWith(".html", StringComparison.Ordinal) ? Results.NotFound() : Embedded(file);

    private static IResult Embedded(string file)
    {
        var extension = Path.GetExtension(file);
        if (!ContentTypes.TryGetValue(extension, out var contentType)) return Results.NotFound();
        var stream = typeof(DashboardEndpoints).Assembly.GetManifestResourceStream(ResourcePrefix + file);
        return stream is null ? Results.NotFound() : Results.Stream(stream, contentType);
    }

    /// <summary><c>GET /api/session</c>: whether keys are required, who is logged in, and the anti-CSRF token for POSTs; 401 without a session.</summary>
    private static IResult Session(HttpContext context, DashboardGate gate, DashboardBackend backend)
    {
        var admission = gate.Admit(context);
        if (admission.Refusal is { } refused) return refused;
        var who = admission.Who!;
        return DashboardJson.Ok(new
        {
            keysRequired = backend.Keys is { IsOpen: false },
            user = who.Name,
            roles = RoleNames.Format(who.Roles),
            namespaces = who.NamespacesText,
            csrfToken = admission.CsrfToken,
        });
    }

    private sealed record LoginBody(string? Key);

    /// <summary>
    /// <c>POST /api/login</c> with <c>{"key": "id.secret"}</c> (JSON only, so no cross-site form can post it): a key of this
    /// node with the operator role starts a session (HttpOnly, SameSite=Strict cookie with a random id). The key is
    /// neither kept nor logged; failures are logged with the key's id only.
    /// </summary>
    private static async Task<IResult> Login(HttpContext context, DashboardBackend backend, DashboardSessions sessions, ILoggerFactory logs)
    {
        var log = logs.CreateLogger("Conduit.Dashboard");
        if (backend.Keys is not { } keys)
            return DashboardGate.Refused(StatusCodes.Status503ServiceUnavailable, ErrorCode.Unavailable, "the node is starting: its client endpoint is not up yet");
        if (keys.IsOpen) return DashboardJson.BadRequest("this node has no API keys: the dashboard needs no login");
        if (DashboardGate.CrossOrigin(context) is { } crossOrigin) return crossOrigin;
        if (!context.Request.HasJsonContentType()) return DashboardJson.BadRequest("send {\"key\": \"…\"} as application/json");
        LoginBody? body;
        try
        {
            body = await DashboardApi.ReadBody<LoginBody>(context, context.RequestAborted);
        }
        catch (JsonException)
        {
            return DashboardJson.BadRequest("send {\"key\": \"…\"} as application/json");
        }
        var key = body?.Key?.Trim();
        if (string.IsNullOrEmpty(key)) return DashboardJson.BadRequest("enter an API key (id.secret) with the operator role");
        var peer = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (keys.Authenticate(key, out var who) is { } refused)
        {
            log.LogWarning("Dashboard login refused for key {Key} from {Peer}", ApiKey.Describe(key), peer);
            return DashboardJson.Error(StatusCodes.Status401Unauthorized, refused.Code.ToString(), refused.Message);
        }
        if (!who.HasAny(Role.Operator))
        {
            log.LogWarning("Dashboard login refused for key {Key} from {Peer}: no operator role", who.Name, peer);
            return DashboardJson.Error(StatusCodes.Status403Forbidden, nameof(ErrorCode.Unauthorized),
                $"key '{who.Name}' ({RoleNames.Format(who.Roles)} in {who.NamespacesText}) has no operator role: the dashboard needs one");
        }
        if (keys.Current(who.Name) is not { } stored) return DashboardJson.Error(StatusCodes.Status401Unauthorized, nameof(ErrorCode.Unauthorized), "the key was just revoked");
        var session = sessions.Create(who.Name, stored.Sha256);
        context.Response.Cookies.Append(DashboardGate.CookieName, session.Id, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            Path = "/",
            MaxAge = DashboardSessions.MaxAge,
        });
        log.LogInformation("Dashboard login by key {Key} from {Peer}", who.Name, peer);
        return DashboardJson.Ok(new { user = who.Name, csrfToken = session.CsrfToken });
    }

    /// <summary><c>POST /api/logout</c> (with the anti-CSRF header): ends the session and clears the cookie.</summary>
    private static IResult Logout(HttpContext context, DashboardGate gate, DashboardSessions sessions)
    {
        var admission = gate.Admit(context);
        if (admission.Refusal is { } refused) return refused;
        if (DashboardGate.CheckPost(context, admission.CsrfToken!) is { } forged) return forged;
        if (context.Request.Cookies[DashboardGate.CookieName] is { } id) sessions.End(id);
        context.Response.Cookies.Delete(DashboardGate.CookieName, new CookieOptions { Path = "/", HttpOnly = true, SameSite = SameSiteMode.Strict });
        return Results.NoContent();
    }
}
