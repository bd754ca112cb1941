using Conduit.Server.Configuration;
using Conduit.Server.Matching;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace Conduit.Server.Tests.Configuration;

/// <summary>The binder and the checks, without a process: sources layered as the node layers them.</summary>
public sealed class OptionsBindingTests
{
    private static IConfigurationRoot Layers(string? json = null, Dictionary<string, string>? deprecated = null, Dictionary<string, string?>? flags = null)
    {
        var builder = new ConfigurationBuilder();
        if (json is not null)
        {
            var file = Path.Combine(Directory.CreateTempSubdirectory("conduit-options-").FullName, "appsettings.json");
            File.WriteAllText(file, json);
            builder.AddJsonFile(file);
        }
        builder.Add(new DeprecatedEnvironmentSource(name => deprecated?.GetValueOrDefault(name)));
        builder.Add(new FlagsConfigurationSource(flags ?? new Dictionary<string, string?>()));
        return builder.Build();
    }

    [Fact(DisplayName = "a flag wins over a deprecated variable, which wins over appsettings.json, which wins over the default")]
    public void Precedence()
    {
        Assert.Equal(4053, NodeConfiguration.Bind(Layers()).Port);
        Assert.Equal(1111, NodeConfiguration.Bind(Layers("""{"Conduit": {"Port": 1111}}""")).Port);
        Assert.Equal(2222, NodeConfiguration.Bind(Layers("""{"Conduit": {"Port": 1111}}""", new() { ["CONDUIT_PORT"] = "2222" })).Port);
        Assert.Equal(3333, NodeConfiguration.Bind(Layers("""{"Conduit": {"Port": 1111}}""", new() { ["CONDUIT_PORT"] = "2222" },
            new() { ["Conduit:Port"] = "3333" })).Port);
    }

    [Fact(DisplayName = "a list comes whole from the highest source that gives it, as an array or comma-separated")]
    public void Lists()
    {
        var json = """{"Conduit": {"Roles": ["taskservice"], "Seeds": ["akka.tcp://conduit-cluster@a:5053", "akka.tcp://conduit-cluster@b:5053"], "QueuePartitions": {"emails": 4}}}""";
        var fromJson = NodeConfiguration.Bind(Layers(json));
        Assert.Equal(["taskservice"], fromJson.Roles);
        Assert.Equal(2, fromJson.Seeds.Count);
        Assert.Equal(4, fromJson.QueuePartitions["emails"]);
        var overridden = NodeConfiguration.Bind(Layers(json, new() { ["CONDUIT_QUEUE_PARTITIONS"] = "billing/emails=8" },
            new() { ["Conduit:Seeds"] = "akka.tcp://conduit-cluster@c:5053" }));
        Assert.Equal(["akka.tcp://conduit-cluster@c:5053"], overridden.Seeds);
        Assert.Equal(new Dictionary<string, int> { ["billing/emails"] = 8 }, overridden.QueuePartitions);
    }

    [Fact(DisplayName = "per-queue overrides: q for every namespace, ns/q over it field by field, other queues keep the node's options")]
    public void QueueOverrides()
    {
        var options = NodeConfiguration.Bind(Layers("""
            {"Conduit": {
              "Partition": {"LeaseTimeoutMs": 45000},
              "Queues": {"emails": {"MaxAttempts": 3, "MaxPayloadBytes": 1024}, "billing/emails": {"MaxAttempts": 7, "RetryJitter": 0}}
            }}
            """));
        var settings = NodeSettingsFactory.Create(options);
        var policies = settings.Server.Policies;
        var plain = policies.For("default", "emails");
        Assert.Equal((3, 1024, 45_000L, PartitionOptions.DefaultRetryJitter), (plain.DefaultMaxAttempts, plain.MaxPayloadBytes, plain.LeaseTimeoutMs, plain.RetryJitter));
        var billing = policies.For("billing", "emails");
        Assert.Equal((7, 1024, 45_000L, 0.0), (billing.DefaultMaxAttempts, billing.MaxPayloadBytes, billing.LeaseTimeoutMs, billing.RetryJitter));
        Assert.Same(settings.Server.Partition, policies.For("default", "other"));
        Assert.Same(settings.Server.Partition, policies.For("other-ns", "emails2"));
    }

    [Fact(DisplayName = "the schedule limit per namespace reaches the server options from a flag, and must be at least 1")]
    public void ScheduleLimit()
    {
        Assert.Equal(1000, NodeSettingsFactory.Create(NodeConfiguration.Bind(Layers())).Server.MaxSchedulesPerNamespace);
        var options = NodeConfiguration.Bind(Layers(flags: new() { ["Conduit:MaxSchedulesPerNamespace"] = "5" }));
        Assert.Equal(5, NodeSettingsFactory.Create(options).Server.MaxSchedulesPerNamespace);
        var e = Assert.Throws<OptionsException>(() => NodeSettingsFactory.FromConfiguration(Layers("""{"Conduit": {"MaxSchedulesPerNamespace": 0}}""")));
        Assert.Contains("MaxSchedulesPerNamespace", e.Message);
        Assert.Contains("at least 1", e.Message);
    }

    [Theory(DisplayName = "bad options are refused naming the option, whatever section it is in")]
    [InlineData("""{"Conduit": {"Partiton": {"TickMs": 5}}}""", "Conduit:Partiton:TickMs", "names no option")]
    [InlineData("""{"Conduit": {"Queues": {"Emails": {"MaxAttempts": 3}}}}""", "Conduit:Queues:Emails", "names no queue")]
    [InlineData("""{"Conduit": {"Queues": {"emails": {"MaxAttempt": 3}}}}""", "Conduit:Queues:emails:MaxAttempt", "names no option")]
    [InlineData("""{"Conduit": {"Queues": {"emails": {"RetryMaxMs": 10}}}}""", "Conduit:Queues:emails:RetryMaxMs", "must be at least RetryInitialMs")]
    [InlineData("""{"Conduit": {"Partition": {"RetryJitter": 1.5}}}""", "CONDUIT__PARTITION__RETRYJITTER", "must be a fraction 0..1")]
    [InlineData("""{"Conduit": {"Gateway": {"EnqueueLatencyTarget": "soon"}}}""", "Conduit:Gateway:EnqueueLatencyTarget", "must be a duration")]
    [InlineData("""{"Conduit": {"Gateway": {"MinEnqueuesInFlight": 100, "MaxEnqueuesInFlight": 50}}}""", "Conduit:Gateway:MinEnqueuesInFlight", "must be 1 to MaxEnqueuesInFlight")]
    [InlineData("""{"Conduit": {"Connections": {"MaxClientConnectionsPerAddress": 0}}}""", "Conduit:Connections:MaxClientConnectionsPerAddress", "must be at least 1, not '0'")]
    [InlineData("""{"Conduit": {"Connections": {"MaxClusterConnections": 0}}}""", "Conduit:Connections:MaxClusterConnections", "must be at least 1")]
    [InlineData("""{"Conduit": {"QueuePartitions": {"emails": "many"}}}""", "Conduit:QueuePartitions:emails", "must be a number of partitions")]
    [InlineData("""{"Conduit": {"Roles": ["frontend", "cook"]}}""", "Conduit:Roles", "unknown role 'cook'")]
    [InlineData("""{"Conduit": {"Postgres": "Host=db;Password=hunter2;Colour=blue"}}""", "Conduit:Postgres", "is not a valid Npgsql connection string")]
    public void Refusals(string json, string names, string problem)
    {
        var configuration = Layers(json);
        var e = Assert.Throws<OptionsException>(() => NodeSettingsFactory.FromConfiguration(configuration));
        Assert.Contains(names, e.Message);
        Assert.Contains(problem, e.Message);
        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
    }
}
