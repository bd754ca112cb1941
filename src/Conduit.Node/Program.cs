using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using Conduit.Node;
using Conduit.Server.Configuration;
using Conduit.Server.Gateway;
using Conduit.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(NodeCommandLine.Usage);
    return 0;
}

var builder = Host.CreateApplicationBuilder();
ConduitNodeOptions options;
NodeSettings settings;
try
{
    var flags = NodeCommandLine.Parse(args);
    // One configuration path: appsettings.json, deprecated CONDUIT_X names, CONDUIT__X variables, flags (highest).
    builder.Configuration.Sources.Clear();
    builder.Configuration.AddConduitNodeSources(flags);
    (options, settings) = NodeSettingsFactory.FromConfiguration(builder.Configuration);
}
catch (Exception e) when (e is NodeCommandLine.UsageException or OptionsException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine(NodeCommandLine.Usage);
    return 2;
}
if (options.Logging.Format == LogFormat.Json)
{
    // One JSON object a line, for the logger factory's lines...
    builder.Services.Configure<ConsoleLoggerOptions>(o => o.FormatterName = ConsoleFormatterNames.Json);
}
else if (string.Equals(builder.Configuration["Logging:Console:FormatterName"], ConsoleFormatterNames.Json, StringComparison.OrdinalIgnoreCase))
{
    // ...and for Akka's lines before its loggers start and after they stop, whichever way JSON was asked for.
    settings = settings with { LogFormat = LogFormat.Json };
}
builder.Services.Configure<JsonConsoleFormatterOptions>(o =>
{
    o.IncludeScopes = true;
    o.UseUtcTimestamp = true;
    o.TimestampFormat ??= "yyyy-MM-ddTHH:mm:ss.fffZ";
});

builder.Services.AddAkka(NodeSettings.SystemName, akka => akka.ConfigureConduitNode(settings));
using var host = builder.Build();
await host.StartAsync();

var system = host.Services.GetRequiredService<ActorSystem>();
var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Conduit.Node");
logger.LogInformation("Conduit node listening on {Address} for clients, {ClusterAddress} for the cluster (roles: {Roles}); storage: {Storage}",
    ClientEndpoint.Of(system)?.Address, Cluster.Get(system).SelfAddress, string.Join(",", settings.Server.Roles), settings.Storage.Describe());
logger.LogInformation("Press Ctrl-C to stop");
await host.WaitForShutdownAsync();
// Non-zero when the node stopped itself because something it needs stopped (its client endpoint), so it is restarted.
return CoordinatedShutdown.Get(system).ShutdownReason is ClientEndpoint.EndpointStopped stopped ? stopped.ExitCode : 0;
