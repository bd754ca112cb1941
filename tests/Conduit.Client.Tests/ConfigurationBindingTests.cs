using Conduit.Client.Hosting;
using Conduit.Client.Worker;
using Conduit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conduit.Client.Tests;

/// <summary>Client and worker options bound from configuration sections, checked at registration.</summary>
public sealed class ConfigurationBindingTests(SqliteClientNodeFixture fixture) : IClassFixture<SqliteClientNodeFixture>
{
    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    public sealed class CountingHandler : IConduitTaskHandler
    {
        public static int Handled;

        public Task HandleAsync(ConduitTask task, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Handled);
            return Task.CompletedTask;
        }
    }

    [Fact(DisplayName = "a client and a worker configured from Conduit:Client and Conduit:Workers sections work against a real node")]
    public async Task FromSections()
    {
        var queue = "cfg-" + Guid.NewGuid().ToString("N")[..8];
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Conduit:Client:Servers:0"] = fixture.Node.Server,
            ["Conduit:Client:RequestTimeout"] = "00:00:20",
            ["Conduit:Client:OverloadBackoff:MaxRetries"] = "3",
            [$"Conduit:Workers:{queue}:MaxConcurrency"] = "2",
            [$"Conduit:Workers:{queue}:PollWait"] = "00:00:01",
        });
        builder.Services.AddConduitClient(builder.Configuration.GetSection("Conduit:Client"));
        builder.Services.AddConduitWorker<CountingHandler>(queue, builder.Configuration.GetSection($"Conduit:Workers:{queue}"));
        using var host = builder.Build();
        var client = host.Services.GetRequiredService<ConduitClient>();
        var before = Volatile.Read(ref CountingHandler.Handled);
        await host.StartAsync();
        for (var i = 0; i < 5; i++) await client.EnqueueAsync(queue, $"t{i}");
        await Eventually.Holds(async () =>
        {
            Assert.True(Volatile.Read(ref CountingHandler.Handled) - before >= 5);
            Assert.Equal(0, (await client.GetQueueStatsAsync(queue)).Ready);
        }, timeoutMs: 30_000);
        await host.StopAsync();
    }

    [Fact(DisplayName = "servers from configuration replace the default whole, as an array or a comma-separated value")]
    public void Servers()
    {
        Assert.Equal(["a:4053", "b:4053"], ConduitConfiguration.ClientOptions(Config(("Servers", "a:4053, b:4053"))).Servers);
        Assert.Equal(["c:4053"], ConduitConfiguration.ClientOptions(Config(("Servers:0", "c:4053"))).Servers);
        Assert.Equal([ConduitClientOptions.DefaultServer], ConduitConfiguration.ClientOptions(Config()).Servers);
    }

    [Theory(DisplayName = "bad client or worker configuration is refused at registration, naming the key")]
    [InlineData("client", "Conduit:Client:RequestTimeout", "00:00:00", "Conduit:Client:RequestTimeout must be positive")]
    [InlineData("client", "Conduit:Client:RequestTimeout", "soon", "Conduit:Client")]
    [InlineData("client", "Conduit:Client:Namspace", "billing", "Namspace")]
    [InlineData("client", "Conduit:Client:OverloadBackoff:MaxRetries", "-1", "Conduit:Client:MaxRetries must not be negative")]
    [InlineData("worker", "Conduit:Worker:MaxConcurrency", "0", "Conduit:Worker:MaxConcurrency must be at least 1")]
    [InlineData("worker", "Conduit:Worker:Lease", "00:00:00.050", "Conduit:Worker:Lease must be at least 100 ms")]
    public void Refusals(string what, string key, string value, string message)
    {
        var configuration = Config((key, value));
        var services = new ServiceCollection();
        var e = Assert.ThrowsAny<ArgumentException>(() =>
        {
            if (what == "client") services.AddConduitClient(configuration.GetSection("Conduit:Client"));
            else services.AddConduitWorker<CountingHandler>("q", configuration.GetSection("Conduit:Worker"));
        });
        Assert.Contains(message, e.Message);
        Assert.Empty(services);
    }
}
