using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using Conduit.Node;
using Conduit.Server.Gateway;
using Conduit.Server.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(NodeCommandLine.Usage);
    return 0;
}

var builder = Host.CreateApplicationBuilder();
builder.Configuration.AddJsonFile("appsettings.json", optional: true).AddEnvironmentVariables();
NodeSettings settings;
try
{
    settings = NodeCommandLine.Parse(args, builder.Configuration);
}
catch (NodeCommandLine.UsageException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine(NodeCommandLine.Usage);
    return 2;
}

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
