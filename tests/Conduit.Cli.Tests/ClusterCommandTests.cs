using Akka.Cluster;
using Conduit.Protocol;
using Conduit.Testing;
using Xunit;

namespace Conduit.Cli.Tests;

/// <summary>The cluster commands against real nodes: show, join, leave, down.</summary>
public sealed class ClusterCommandTests(CliNodeFixture fixture) : IClassFixture<CliNodeFixture>
{
    [Fact(DisplayName = "cluster show lists the node with its roles, Up and reachable, and names it self and leader")]
    public async Task Show()
    {
        var r = await fixture.Cli("cluster", "show");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains($"self:   {fixture.Node.Address.ToString()}", r.Out);
        Assert.Contains($"leader: {fixture.Node.Address.ToString()}", r.Out);
        Assert.Equal([fixture.Node.Address.ToString(), "frontend,taskservice", "Up", "yes"], r.Row(fixture.Node.Address.ToString()));
        Assert.False(r.Out.Contains('\u001b'), "colour codes although stdout is not a terminal");

        var json = await fixture.Cli("cluster", "show", "--json");
        Assert.Equal(0, json.ExitCode);
        Assert.Equal(fixture.Node.Address.ToString(), json.Json.GetProperty("self").GetString());
        var member = Assert.Single(json.Json.GetProperty("members").EnumerateArray());
        Assert.Equal(["frontend", "taskservice"], member.GetProperty("roles").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal(("Up", true), (member.GetProperty("status").GetString(), member.GetProperty("reachable").GetBoolean()));
    }

    [Fact(DisplayName = "cluster join brings a waiting node in; cluster leave takes it out; cluster down removes a member; each is logged with who asked")]
    public async Task JoinLeaveDown()
    {
        var first = fixture.Node;
        var cluster = Cluster.Get(first.System);
        bool IsMember(TestNode n, MemberStatus status) => cluster.State.Members.Any(m => m.Address.ToString() == n.Address.ToString() && m.Status == status);

        await using var waiting = await TestNode.StartAsync(TestStores.NewSqlite(), join: false);
        var notJoined = await CliProcess.Run("--server", $"127.0.0.1:{waiting.Port}", "cluster", "show", "--json");
        Assert.Equal(0, notJoined.ExitCode);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, notJoined.Json.GetProperty("leader").ValueKind);

        var join = await CliProcess.Run("--server", $"127.0.0.1:{waiting.Port}", "cluster", "join", $"127.0.0.1:{first.ClusterPort}");
        Assert.True(join.ExitCode == 0, join.ToString());
        await Eventually.Holds(() => { Assert.True(IsMember(waiting, MemberStatus.Up)); return Task.CompletedTask; }, timeoutMs: 30_000);
        var shown = await fixture.Cli("cluster", "show");
        Assert.Equal("Up", shown.Row(waiting.Address.ToString())[2]);

        var rejoin = await fixture.Cli("cluster", "join", waiting.Address.ToString());
        Assert.Equal(1, rejoin.ExitCode);
        Assert.Contains("InvalidArgument: ", rejoin.Err);
        Assert.Contains("already a member of a cluster", rejoin.Err);

        var leave = await fixture.Cli("cluster", "leave", waiting.Address.ToString());
        Assert.True(leave.ExitCode == 0, leave.ToString());
        await Eventually.Holds(() => { Assert.DoesNotContain(cluster.State.Members, m => m.Address.ToString() == waiting.Address.ToString()); return Task.CompletedTask; }, timeoutMs: 30_000);

        await using var doomed = await TestNode.StartAsync(TestStores.NewSqlite(), seeds: [first.Address.ToString()]);
        await Eventually.Holds(() => { Assert.True(IsMember(doomed, MemberStatus.Up)); return Task.CompletedTask; }, timeoutMs: 30_000);
        var down = await fixture.Cli("cluster", "down", $"127.0.0.1:{doomed.ClusterPort}", "--json");
        Assert.True(down.ExitCode == 0, down.ToString());
        Assert.Equal(("Down", doomed.Address.ToString()), (down.Json.GetProperty("action").GetString(), down.Json.GetProperty("address").GetString()));
        await Eventually.Holds(() => { Assert.DoesNotContain(cluster.State.Members, m => m.Address.ToString() == doomed.Address.ToString()); return Task.CompletedTask; }, timeoutMs: 30_000);

        var who = $"anonymous@akka.tcp://{WireNames.CliSystemName}@";
        Assert.Contains(fixture.Log.Lines, l => l.Contains($"Operator {who}") && l.Contains($"asked member {waiting.Address.ToString()} to leave"));
        Assert.Contains(fixture.Log.Lines, l => l.Contains($"Operator {who}") && l.Contains($"marked member {doomed.Address.ToString()} down"));

        var stranger = await fixture.Cli("cluster", "leave", "127.0.0.1:1");
        Assert.Equal(1, stranger.ExitCode);
        Assert.Contains("is not a member of this cluster", stranger.Err);
    }
}
