using System.Diagnostics;
using Xunit;

namespace Conduit.Cli.Tests;

/// <summary>What the CLI does before it talks to anyone: usage errors (exit 2) and unreachable servers (exit 3).</summary>
public sealed class UsageTests
{
    [Theory(DisplayName = "a bad command line exits 2, names the problem and the fix, and sends nothing")]
    [InlineData("invalid queue name 'BAD!'", "queue", "stats", "BAD!")]
    [InlineData("--namespace: invalid namespace 'BAD!'", "--namespace", "BAD!", "queue", "stats", "q")]
    [InlineData("--namespace: invalid namespace 'a/b'", "dlq", "list", "q", "-n", "a/b")]
    [InlineData("--priority must be a number 0..9 (higher runs first), not '12'", "enqueue", "q", "--priority", "12", "--payload", "x")]
    [InlineData("--max-attempts must be a number 1..1000", "enqueue", "q", "--max-attempts", "many", "--payload", "x")]
    [InlineData("--wait '3x' is not a duration: use e.g. 500ms, 30s", "poll", "q", "--wait", "3x")]
    [InlineData("enqueue needs a payload: --payload TEXT or --file PATH", "enqueue", "q")]
    [InlineData("give the payload once", "enqueue", "q", "--payload", "a", "--file", "/etc/hostname")]
    [InlineData("--key makes every task after the first a duplicate", "enqueue", "q", "--count", "2", "--key", "k")]
    [InlineData("`conduit dlq requeue q --all`, or task ids", "dlq", "requeue", "q")]
    [InlineData("give either --all or task ids, not both", "dlq", "requeue", "q", "--all", "default/q#0:17")]
    [InlineData("'42' is not a task id: task ids look like default/emails#0:81", "task", "get", "42")]
    [InlineData("'abc' is not a lease token: copy it from the LEASE column of `conduit poll`", "complete", "abc")]
    [InlineData("'x' is not a node address: use host:cluster-port", "cluster", "leave", "x")]
    [InlineData("--server 'nope' is not host:port: use e.g. --server 127.0.0.1:4053", "--server", "nope", "queues")]
    [InlineData("Unrecognized command or argument 'frob'", "frob")]
    [InlineData("`conduit queue` needs a command: stats, pause, resume, purge", "queue")]
    public async Task BadCommandLine(string message, params string[] args)
    {
        // A server nothing listens on: a usage error must be reported before any connection is tried.
        var r = await CliProcess.Run(args.Contains("--server") ? args : ["--server", "127.0.0.1:1", .. args]);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains(message, r.Err);
        Assert.Contains("--help` for usage", r.Err);
        Assert.Equal("", r.Out);
    }

    [Fact(DisplayName = "a bad CONDUIT_NAMESPACE is a usage error that names the variable, and nothing is sent")]
    public async Task BadNamespaceFromEnvironment()
    {
        var r = await CliProcess.Run(new Dictionary<string, string> { ["CONDUIT_NAMESPACE"] = "Billing" }, "--server", "127.0.0.1:1", "queue", "stats", "q");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("CONDUIT_NAMESPACE: invalid namespace 'Billing'", r.Err);
        Assert.Equal("", r.Out);
    }

    [Fact(DisplayName = "with --json a usage error is also one JSON document on stdout")]
    public async Task UsageErrorAsJson()
    {
        var r = await CliProcess.Run("queue", "stats", "BAD!", "--json");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("usage", r.Json.GetProperty("error").GetProperty("kind").GetString());
    }

    [Theory(DisplayName = "a server with nothing listening gives exit 3 at once, saying how to start a node")]
    [InlineData("queues")]
    [InlineData("cluster", "show")]
    [InlineData("enqueue", "q", "--payload", "x")]
    public async Task Unreachable(params string[] command)
    {
        var port = CliProcess.FreePort();
        var watch = Stopwatch.StartNew();
        var r = await CliProcess.Run(["--server", $"127.0.0.1:{port}", "--timeout", "2s", .. command]);
        Assert.True(r.ExitCode == 3, r.ToString());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
        Assert.Contains($"cannot reach 127.0.0.1:{port}", r.Err);
        Assert.Contains("is a node running? start one with `dotnet run --project src/Conduit.Node`", r.Err);
    }

    [Fact(DisplayName = "CONDUIT_SERVER names the server when --server is not given")]
    public async Task ServerFromEnvironment()
    {
        var port = CliProcess.FreePort();
        var r = await CliProcess.Run(new Dictionary<string, string> { ["CONDUIT_SERVER"] = $"127.0.0.1:{port}" }, "queues", "--json");
        Assert.Equal(3, r.ExitCode);
        Assert.Equal("unreachable", r.Json.GetProperty("error").GetProperty("kind").GetString());
        Assert.Contains($"127.0.0.1:{port}", r.Err);
    }

    [Fact(DisplayName = "--help lists every command and exits 0")]
    public async Task Help()
    {
        var r = await CliProcess.Run("--help");
        Assert.Equal(0, r.ExitCode);
        foreach (var command in new[] { "cluster", "sharding", "queues", "queue", "dlq", "task", "enqueue", "poll", "complete", "fail", "keys", "--server", "--namespace", "--json", "--timeout", "--api-key" })
            Assert.Contains(command, r.Out);
    }
}
