using System.Text.Json;
using Akka.Hosting;
using Conduit.Server.Dashboard;
using Conduit.Server.Hosting;
using Conduit.Server.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Conduit.Server.Http;

/// <summary>
/// The process host of a node: the ActorSystems (Akka.Hosting) and, when <see cref="NodeSettings.Http"/> is set, the
/// HTTP listener (Kestrel) with the health probes and the Prometheus scrape endpoint (<see cref="MetricsHosting.ScrapePath"/>).
/// One path for the shipped node and for in-process test nodes.
/// </summary>
public static class NodeHost
{
    public const string LivenessPath = "/healthz";
    public const string ReadinessPath = "/readyz";

    /// <summary>
    /// A host for a node with <paramref name="settings"/>; <paramref name="configure"/> sees the builder before the node is
    /// added (configuration, logging), <paramref name="akka"/> the Akka builder after the node's own setup.
    /// </summary>
    public static IHost Build(NodeSettings settings, Action<IHostApplicationBuilder>? configure = null, Action<AkkaConfigurationBuilder>? akka = null)
    {
        if (settings.Http is not { } http)
        {
            var plain = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = false, Args = HostArgs });
            configure?.Invoke(plain);
            AddNode(plain.Services, settings, akka, prometheus: false);
            return plain.Build();
        }
        var web = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = HostArgs });
        configure?.Invoke(web);
        web.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(ListenAddress(http.Host), http.Port);
        });
        AddNode(web.Services, settings, akka, prometheus: true);
        var dashboard = ServesDashboard(settings, http);
        if (dashboard) web.Services.AddConduitDashboard();
        var app = web.Build();
        app.MapConduitHealth();
        app.MapConduitMetrics();
        if (dashboard) app.MapConduitDashboard();
        return app;
    }

    /// <summary>
    /// The host builders' own settings. They load <c>appsettings.json</c> from the content root (the working directory)
    /// with reload on change by default, which watches that whole directory tree: a SQLite node's <c>./data</c> is in
    /// it, so every journal write raised file-watcher events, and a large tree uses up inotify watches. The node reads
    /// its settings once at start (<see cref="Configuration.NodeConfiguration"/>, no reload), so nothing is watched.
    /// </summary>
    internal static readonly string[] HostArgs = ["--hostBuilder:reloadConfigOnChange=false"];

    /// <summary>
    /// Whether the listener serves the dashboard: with a keys file (it asks for an operator login), or without one only
    /// when the listener is bound to loopback. Without keys the dashboard lets any local connection administer queues,
    /// and on a listener bound to another address a same-host proxy or sidecar makes remote requests look local.
    /// </summary>
    public static bool ServesDashboard(NodeSettings settings, NodeHttpOptions http) =>
        settings.KeysFile is not null || Configuration.NodeAddresses.IsLoopback(http.Host);

    private static void AddNode(IServiceCollection services, NodeSettings settings, Action<AkkaConfigurationBuilder>? akka, bool prometheus)
    {
        settings.Metrics.Validate();
        var metrics = new ServerMetrics(settings.Metrics);
        services.AddConduitMetrics(settings, metrics, prometheus);
        services.AddHealthChecks();
        services.AddAkka(NodeSettings.SystemName, builder =>
        {
            builder.ConfigureConduitNode(settings, metrics).WithConduitHealthChecks(settings);
            // The meter lives as long as the node's ActorSystem (a process may run several nodes, as tests do).
            builder.WithActors((system, _) => system.RegisterOnTermination(metrics.Dispose));
            akka?.Invoke(builder);
        });
    }

    /// <summary>Where the HTTP listener of a started <paramref name="host"/> listens (<c>http://127.0.0.1:8053</c>); null without one.</summary>
    public static Uri? HttpAddress(IHost host) =>
        host.Services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses is { Count: > 0 } addresses
            ? new Uri(addresses.First())
            : null;

    private static System.Net.IPAddress ListenAddress(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) ? System.Net.IPAddress.Loopback
        : System.Net.IPAddress.TryParse(host, out var address) ? address
        : throw new ArgumentException($"the HTTP host must be an IP address or localhost, not '{host}'", nameof(host));

    /// <summary><c>/healthz</c> runs the liveness checks, <c>/readyz</c> liveness and readiness; 200 when healthy, 503 when not, JSON either way.</summary>
    public static IEndpointRouteBuilder MapConduitHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks(LivenessPath, new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(NodeHealthChecks.LiveTag),
            ResponseWriter = WriteReport,
        });
        endpoints.MapHealthChecks(ReadinessPath, new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(NodeHealthChecks.LiveTag) || check.Tags.Contains(NodeHealthChecks.ReadyTag),
            ResponseWriter = WriteReport,
        });
        return endpoints;
    }

    private static Task WriteReport(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = e.Value.Status.ToString(),
                description = e.Value.Description ?? e.Value.Exception?.GetType().Name,
                ms = (long)e.Value.Duration.TotalMilliseconds,
            }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }
}
