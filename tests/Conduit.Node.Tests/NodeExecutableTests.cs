using System.Text;
using Akka.Actor;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Conduit.Protocol;
using Conduit.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Conduit.Node.Tests;

public sealed class NodeExecutableTests
{
    [Fact(DisplayName = "the node starts on SQLite, serves requests over remoting, stops cleanly on Ctrl-C, and keeps its tasks across the restart")]
    public async Task RunStopRestart()
    {
        var port = NodeProcess.FreePort();
        var data = Path.Combine(Path.GetTempPath(), "conduit-node-tests", Guid.NewGuid().ToString("N"));
        string taskId;
        await using (var node = NodeProcess.Start("--port", port.ToString(), "--cluster-port", "0", "--data", data))
        {
            await node.WaitForOutput($"Conduit node listening on akka.tcp://conduit@127.0.0.1:{port}");
            Assert.Contains($"storage: SQLite {Path.Combine(data, "conduit.db")}", node.Output);
            await using var client = await RemoteClient.Connect(port);
            taskId = (await client.Ask<Enqueued>(new Enqueue("emails", new TaskSpec(Encoding.UTF8.GetBytes("hi"))))).TaskId;
            Assert.Equal(0, await node.InterruptAndWait());
        }
        Assert.True(File.Exists(Path.Combine(data, "conduit.db")));

        await using (var node = NodeProcess.Start("--port", port.ToString(), "--cluster-port", "0", "--data", data))
        {
            await node.WaitForOutput("Conduit node listening on");
            await using var client = await RemoteClient.Connect(port);
            var polled = await client.Ask<Polled>(new Poll("emails", 10, 5_000));
            var task = Assert.Single(polled.Tasks);
            Assert.Equal((taskId, "hi"), (task.TaskId, Encoding.UTF8.GetString(task.Payload)));
            Assert.Equal(0, await node.InterruptAndWait());
        }
    }

    [Theory(DisplayName = "a bad option exits with code 2 and says what is wrong")]
    [InlineData("--port", "abc", "--port must be a number")]
    [InlineData("--roles", "cook", "unknown role 'cook'")]
    [InlineData("--seed", "tcp://x", "must look like akka.tcp://conduit-cluster@host:5053")]
    [InlineData("--frobnicate", "1", "unknown option '--frobnicate'")]
    [InlineData("--queue-partitions", "emails=zero", "--queue-partitions wants queue=N pairs")]
    [InlineData("--keys", "/nonexistent/keys.json", "--keys: /nonexistent/keys.json: keys file not found")]
    [InlineData("--http-port", "web", "--http-port must be a number")]
    [InlineData("--http-host", "example.com", "--http-host must be an IP address or localhost")]
    [InlineData("--queue-partitions", "Billing/emails=2", "--queue-partitions wants queue=N pairs, or namespace/queue=N")]
    [InlineData("--metrics-queue-labels", "5000", "--metrics-queue-labels must be a number 0..1000")]
    [InlineData("--otlp-endpoint", "collector:4317", "--otlp-endpoint must be an http:// or https:// URL")]
    public async Task BadOption(string option, string value, string message)
    {
        await using var node = NodeProcess.Start(option, value);
        Assert.Equal(2, await node.WaitForExit());
        Assert.Contains(message, node.Output);
        Assert.Contains("Usage: Conduit.Node", node.Output);
    }

    [Fact(DisplayName = "a keys file with a bad entry stops the node at startup with exit code 2, naming the entry")]
    public async Task BadKeysFile()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("conduit-keys-").FullName, "keys.json");
        await File.WriteAllTextAsync(path, $$"""{"keys": [{"id": "ops", "sha256": "{{new string('0', 64)}}", "roles": ["admin"], "namespaces": ["*"]}]}""");
        try
        {
            await using var node = NodeProcess.Start("--keys", path);
            Assert.Equal(2, await node.WaitForExit());
            Assert.Contains("keys[0] (id 'ops'): unknown role 'admin'", node.Output);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>A plain remoting ActorSystem (not a cluster member) that talks to the node's frontend.</summary>
    private sealed class RemoteClient : IAsyncDisposable
    {
        private readonly IHost _host;
        private readonly ActorSelection _frontend;

        private RemoteClient(IHost host, int port)
        {
            _host = host;
            _frontend = host.Services.GetRequiredService<ActorSystem>().ActorSelection($"akka.tcp://conduit@127.0.0.1:{port}/user/frontend");
        }

        public static async Task<RemoteClient> Connect(int port)
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders();
            builder.Services.AddAkka("client", akka => akka
                .WithRemoting("127.0.0.1", 0)
                .WithConduitSerialization()
                .AddHocon("akka.actor.provider = remote", HoconAddMode.Prepend));
            var host = builder.Build();
            await host.StartAsync();
            return new RemoteClient(host, port);
        }

        public async Task<T> Ask<T>(IPartitionRequest request)
        {
            var reply = await _frontend.Ask<object>(request, TimeSpan.FromSeconds(30));
            return reply is T t ? t : throw new InvalidOperationException($"expected {typeof(T).Name}, got {reply}");
        }

        public async ValueTask DisposeAsync()
        {
            await _host.StopAsync();
            _host.Dispose();
        }
    }
}
