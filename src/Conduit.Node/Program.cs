using Akka.Actor;
using Akka.Cluster;
using Conduit.Node;
using Conduit.Server.Configuration;
using Conduit.Server.Gateway;
using Conduit.Server.Hosting;
using Conduit.Server.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(NodeCommandLine.Usage);
    return 0;
}

// One configuration path: appsettings.json, deprecated CONDUIT_X names, CONDUIT__X variables, flags (highest).
var configuration = new ConfigurationManager();
ConduitNodeOptions options;
NodeSettings settings;
try
{
    configuration.AddConduitNodeSources(NodeCommandLine.Parse(args));
    (options, settings) = NodeSettingsFactory.FromConfiguration(configuration);
}
catch (Exception e) when (e is NodeCommandLine.UsageException or OptionsException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine(NodeCommandLine.Usage);
    return 2;
}
var json = options.Logging.Format == LogFormat.Json;
if (!json && string.Equals(configuration["Logging:Console:FormatterName"], ConsoleFormatterNames.Json, StringComparison.OrdinalIgnoreCase))
{
    // JSON asked for the standard way: Akka's lines before its loggers start and after they stop are JSON too.
    settings = settings with { LogFormat = LogFormat.Json };
}

using var host = NodeHost.Build(settings, builder =>
{
    builder.Configuration.Sources.Clear();
    builder.Configuration.AddConfiguration(configuration);
    // One JSON object a line, for the logger factory's lines.
    if (json) builder.Services.Configure<ConsoleLoggerOptions>(o => o.FormatterName = ConsoleFormatterNames.Json);
    builder.Services.Configure<JsonConsoleFormatterOptions>(o =>
    {
        o.IncludeScopes = true;
        o.UseUtcTimestamp = true;
        o.TimestampFormat ??= "yyyy-MM-ddTHH:mm:ss.fffZ";
    });
});
try
{
    await host.StartAsync();
}
catch (IOException e) when (e.InnerException is System.Net.Sockets.SocketException || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
{
    Console.Error.WriteLine($"error: the HTTP listener cannot bind {settings.Http?.Host}:{settings.Http?.Port} ({e.Message}); give --http-port another port or 0, or --no-http");
    return 2;
}

var system = host.Services.GetRequiredService<ActorSystem>();
var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Conduit.Node");
logger.LogInformation("Conduit node listening on {Address} for clients, {ClusterAddress} for the cluster (roles: {Roles}); storage: {Storage}",
    ClientEndpoint.Of(system)?.Address, Cluster.Get(system).SelfAddress, string.Join(",", settings.Server.Roles), settings.Storage.Describe());
if (NodeHost.HttpAddress(host) is { } http)
    logger.LogInformation("HTTP on {HttpAddress} (health: {Liveness}, {Readiness}; metrics: {Metrics}; dashboard: /ui/)", http,
        NodeHost.LivenessPath, NodeHost.ReadinessPath, Conduit.Server.Metrics.MetricsHosting.ScrapePath);
if (settings.Http is { } listener && !NodeHost.ServesDashboard(settings, listener))
    logger.LogWarning("No dashboard: the HTTP listener is on {HttpHost}, not loopback, and the node has no keys file (--keys); " +
        "without keys the dashboard is served on loopback only", listener.Host);
if (settings.Metrics.OtlpEndpoint is { } otlp)
    logger.LogInformation("Metrics pushed over OTLP to {OtlpEndpoint} every {Interval} s", otlp, settings.Metrics.OtlpExportIntervalMs / 1000);
logger.LogInformation("Press Ctrl-C to stop");
await host.WaitForShutdownAsync();
// The shutdown's own exit code: 0 when asked to stop (SIGTERM, `conduit cluster leave`); non-zero when the node stopped
// itself, so its supervisor restarts it: its client endpoint stopped (70), it was downed (3), it could not join (4), or
// a TLS handshake it started failed (79, Akka.Remote; docs/tls.md).
return CoordinatedShutdown.Get(system).ShutdownReason?.ExitCode ?? 0;
