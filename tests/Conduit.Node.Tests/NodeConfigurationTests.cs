using System.Text;
using System.Text.Json;
using Conduit.Client;
using Xunit;

namespace Conduit.Node.Tests;

/// <summary>
/// The node's one configuration path, as a user meets it: appsettings.json, CONDUIT__ variables (and the deprecated
/// CONDUIT_ names), flags, in that order of precedence; bad values refused at start naming the option; per-queue overrides
/// that apply to their queue only; JSON logs.
/// </summary>
public sealed class NodeConfigurationTests
{
    private static string NewDirectory() => Directory.CreateTempSubdirectory("conduit-config-").FullName;

    private static Task WriteSettings(string dir, object settings) =>
        File.WriteAllTextAsync(Path.Combine(dir, "appsettings.json"), JsonSerializer.Serialize(settings));

    private static Dictionary<string, string> Env(params (string Name, string Value)[] pairs) => pairs.ToDictionary(p => p.Name, p => p.Value);

    [Fact(DisplayName = "a port from appsettings.json is overridden by CONDUIT__PORT, which is overridden by --port")]
    public async Task Precedence()
    {
        var dir = NewDirectory();
        var (fromJson, fromEnv, fromFlag) = (NodeProcess.FreePort(), NodeProcess.FreePort(), NodeProcess.FreePort());
        await WriteSettings(dir, new { Conduit = new { Port = fromJson, ClusterPort = 0, Data = Path.Combine(dir, "data") } });

        await using (var node = NodeProcess.StartIn(dir, Env()))
            await node.WaitForOutput($"Conduit node listening on akka.tcp://conduit@127.0.0.1:{fromJson} ");
        await using (var node = NodeProcess.StartIn(dir, Env(("CONDUIT__PORT", fromEnv.ToString()))))
            await node.WaitForOutput($"Conduit node listening on akka.tcp://conduit@127.0.0.1:{fromEnv} ");
        await using (var node = NodeProcess.StartIn(dir, Env(("CONDUIT__PORT", fromEnv.ToString())), "--port", fromFlag.ToString()))
            await node.WaitForOutput($"Conduit node listening on akka.tcp://conduit@127.0.0.1:{fromFlag} ");
    }

    [Fact(DisplayName = "the deprecated CONDUIT_PORT still sets the port, and CONDUIT__PORT wins over it")]
    public async Task DeprecatedNames()
    {
        var dir = NewDirectory();
        var (old, @new) = (NodeProcess.FreePort(), NodeProcess.FreePort());
        await using (var node = NodeProcess.StartIn(dir, Env(("CONDUIT_PORT", old.ToString()), ("CONDUIT_CLUSTER_PORT", "0"), ("CONDUIT_DATA", Path.Combine(dir, "d")))))
            await node.WaitForOutput($"Conduit node listening on akka.tcp://conduit@127.0.0.1:{old} ");
        await using (var node = NodeProcess.StartIn(dir, Env(("CONDUIT_PORT", old.ToString()), ("CONDUIT__PORT", @new.ToString()), ("CONDUIT__CLUSTERPORT", "0"),
                         ("CONDUIT__DATA", Path.Combine(dir, "d")))))
            await node.WaitForOutput($"Conduit node listening on akka.tcp://conduit@127.0.0.1:{@new} ");
    }

    [Theory(DisplayName = "a bad value from any source exits with code 2 naming the option as given and its environment name")]
    [InlineData("CONDUIT__PARTITION__LEASETIMEOUTMS", "50", "CONDUIT__PARTITION__LEASETIMEOUTMS must be 100 ms..24 h")]
    [InlineData("CONDUIT__PARTITION__RETRYJITTER", "lots", "CONDUIT__PARTITION__RETRYJITTER must be a number")]
    [InlineData("CONDUIT__GATEWAY__MAXPOLLSINFLIGHT", "0", "CONDUIT__GATEWAY__MAXPOLLSINFLIGHT must be at least 1")]
    [InlineData("CONDUIT__QUEUES__emails__MAXATTEMPTS", "0", "CONDUIT__QUEUES__EMAILS__MAXATTEMPTS must be 1..1000")]
    [InlineData("CONDUIT__QUEUES__Emails__MAXATTEMPTS", "3", "names no queue")]
    [InlineData("CONDUIT__PARTITION__LEASETIMEOUT", "5000", "CONDUIT__PARTITION__LEASETIMEOUT names no option")]
    [InlineData("CONDUIT__LOGGING__FORMAT", "xml", "must be one of text, json")]
    [InlineData("CONDUIT_INSECURE", "maybe", "CONDUIT_INSECURE must be true or false")]
    public async Task BadEnvironment(string name, string value, string message)
    {
        await using var node = NodeProcess.StartIn(NewDirectory(), Env((name, value)));
        Assert.Equal(2, await node.WaitForExit());
        Assert.Contains(message, node.Output);
    }

    [Fact(DisplayName = "a bad value in appsettings.json exits with code 2 naming the key, the file and the environment name")]
    public async Task BadAppSettings()
    {
        var dir = NewDirectory();
        await File.WriteAllTextAsync(Path.Combine(dir, "appsettings.json"), """{"Conduit": {"Partition": {"MaxPayloadBytes": -1}}}""");
        await using var node = NodeProcess.StartIn(dir, Env());
        Assert.Equal(2, await node.WaitForExit());
        Assert.Contains($"Conduit:Partition:MaxPayloadBytes (in {Path.Combine(dir, "appsettings.json")}) must be 1..", node.Output);
        Assert.Contains("environment CONDUIT__PARTITION__MAXPAYLOADBYTES", node.Output);
    }

    [Fact(DisplayName = "per-queue overrides apply to their queue only: a payload cap and max attempts on one queue leave another at the node's defaults")]
    public async Task PerQueueOverrides()
    {
        var dir = NewDirectory();
        var port = NodeProcess.FreePort();
        await WriteSettings(dir, new
        {
            Conduit = new
            {
                Port = port, ClusterPort = 0, Data = Path.Combine(dir, "data"),
                Partition = new { RetryInitialMs = 50, RetryMaxMs = 100 },
                Queues = new Dictionary<string, object> { ["small"] = new { MaxPayloadBytes = 1024, MaxAttempts = 2 } },
            },
        });
        await using var node = NodeProcess.StartIn(dir, Env());
        await node.WaitForOutput($"Conduit node listening on akka.tcp://conduit@127.0.0.1:{port}");
        await using var client = ConduitClient.Connect($"127.0.0.1:{port}");

        var big = new byte[2048];
        await Assert.ThrowsAsync<PayloadTooLargeException>(() => client.EnqueueAsync("small", big));
        await Assert.ThrowsAsync<PayloadTooLargeException>(() => client.EnqueueBatchAsync("small", [Encoding.UTF8.GetBytes("ok"), big]));
        Assert.False(string.IsNullOrEmpty((await client.EnqueueAsync("other", big)).TaskId));
        Assert.Equal(0, (await client.GetQueueStatsAsync("small")).Ready);

        var small = (await client.EnqueueAsync("small", "x")).TaskId;
        await client.PollAsync("other", maxTasks: 10, wait: TimeSpan.FromSeconds(1)); // the big one, out of the way
        var other = (await client.EnqueueAsync("other", "x")).TaskId;
        foreach (var queue in new[] { "small", "other" })
            for (var attempt = 1; attempt <= 2; attempt++)
            {
                var task = Assert.Single(await client.PollAsync(queue, maxTasks: 1, wait: TimeSpan.FromSeconds(10)));
                Assert.Equal(queue == "small" ? small : other, task.Id);
                await client.FailAsync(task.LeaseToken, $"attempt {attempt}");
            }
        Assert.Equal(small, Assert.Single(await client.ListDeadLettersAsync("small")).TaskId);
        Assert.Empty(await client.ListDeadLettersAsync("other"));
        // The other queue retries it a third time (its max attempts is the default, 10).
        Assert.Equal(other, Assert.Single(await client.PollAsync("other", maxTasks: 1, wait: TimeSpan.FromSeconds(10))).Id);
    }

    [Fact(DisplayName = "with --log-format json every line the node writes to stdout, from start to Ctrl-C, is a JSON object")]
    public async Task JsonLogs()
    {
        var dir = NewDirectory();
        var port = NodeProcess.FreePort();
        var node = NodeProcess.StartIn(dir, Env(), "--port", port.ToString(), "--cluster-port", "0", "--data", Path.Combine(dir, "data"), "--log-format", "json");
        await using (node)
        {
            await node.WaitForOutput("Conduit node listening on");
            await using (var client = ConduitClient.Connect($"127.0.0.1:{port}"))
            {
                await client.EnqueueAsync("json", "x");
                await client.PurgeAsync("json");
            }
            await node.WaitForOutput("purged queue default/json");
            // A stranger's garbage: the compact connection line is JSON too.
            using (var socket = new System.Net.Sockets.TcpClient())
            {
                await socket.ConnectAsync("127.0.0.1", port);
                await socket.GetStream().WriteAsync(Enumerable.Repeat((byte)0x7f, 64).ToArray());
            }
            await node.WaitForOutput("[connection]");
            Assert.Equal(0, await node.InterruptAndWait());
        }
        var lines = node.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length > 10, node.StandardOutput);
        foreach (var line in lines)
        {
            using var json = JsonDocument.Parse(line);
            Assert.True(json.RootElement.TryGetProperty("LogLevel", out _), line);
        }
        var listening = lines.Select(l => JsonDocument.Parse(l).RootElement).Single(e => e.GetProperty("Message").GetString()!.StartsWith("Conduit node listening"));
        Assert.Equal($"akka.tcp://conduit@127.0.0.1:{port}", listening.GetProperty("State").GetProperty("Address").GetString());
        var purge = lines.Select(l => JsonDocument.Parse(l).RootElement).Single(e => e.GetProperty("Message").GetString()!.Contains("purged queue"));
        var fields = purge.GetProperty("State");
        Assert.Equal(("purged", "default", "json"), (fields.GetProperty("Action").GetString(), fields.GetProperty("Namespace").GetString(), fields.GetProperty("Queue").GetString()));
        Assert.StartsWith("anonymous@akka.tcp://", fields.GetProperty("Requester").GetString());
        var connection = lines.Select(l => JsonDocument.Parse(l).RootElement).First(e => e.GetProperty("Message").GetString()!.Contains("[connection]"));
        Assert.Equal("connection", connection.GetProperty("State").GetProperty("Flood").GetString());
        Assert.False(connection.TryGetProperty("Exception", out var exception) && exception.ValueKind == JsonValueKind.String, "a flood line carries no stack trace");
    }
}
