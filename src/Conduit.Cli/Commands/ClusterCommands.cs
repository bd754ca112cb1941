using System.CommandLine;
using System.Globalization;
using Conduit.Cli.Output;

namespace Conduit.Cli.Commands;

/// <summary><c>cluster show | leave | down | join</c> and <c>sharding regions | stats</c>: what pbm does for a cluster.</summary>
public static class ClusterCommands
{
    public static Command Cluster()
    {
        var show = new Command("show", "members with roles, status and reachability; the leader").Runs(async (ctx, _) =>
        {
            var state = await ctx.Node<ClusterState>(new GetClusterState());
            ctx.Output.Result(state, () => PrintState(ctx.Output, state));
        });
        return new Command("cluster", "cluster membership")
        {
            show,
            Membership("leave", MembershipAction.Leave, "ask a member to leave gracefully (its shards move first, then it stops)"),
            Membership("down", MembershipAction.Down, "mark a member down: use for a node that is gone and will not come back"),
            Membership("join", MembershipAction.Join, "make the --server node (not yet in a cluster) join the cluster of ADDRESS"),
        };
    }

    private static Command Membership(string name, MembershipAction action, string description)
    {
        var address = Arguments.NodeAddress();
        var command = new Command(name, description) { address };
        return command.Runs(async (ctx, parse) =>
        {
            var target = parse.GetValue(address).MemberAddress;
            var started = await ctx.Node<MembershipChangeStarted>(new ChangeMembership(action, target, ctx.Settings.Requester));
            ctx.Output.Result(started, () => ctx.Output.Line(action switch
            {
                MembershipAction.Leave => $"asked {started.Address} to leave the cluster; watch `conduit cluster show`",
                MembershipAction.Down => $"marked {started.Address} down",
                _ => $"{ctx.Settings.Server} is joining the cluster of {started.Address}; watch `conduit cluster show`",
            }));
        });
    }

    private static void PrintState(CliOutput output, ClusterState state)
    {
        output.Line($"self:   {state.Self}");
        output.Line($"leader: {state.Leader ?? "(none: this node has not joined a cluster)"}");
        output.Line();
        var table = new TableWriter("ADDRESS", "ROLES", "STATUS", "REACHABLE");
        foreach (var m in state.Members)
        {
            table.Add(m.Address, string.Join(',', m.Roles),
                new TableWriter.Cell(m.Status, m.Status == "Up" ? Ansi.Green : Ansi.Yellow),
                new TableWriter.Cell(m.Reachable ? "yes" : "NO", m.Reachable ? null : Ansi.Red));
        }
        table.WriteTo(output);
    }

    public static Command Sharding()
    {
        var regions = new Command("regions", "shard regions per node, with their shard and entity counts").Runs(async (ctx, _) =>
        {
            var stats = await ctx.Node<ShardingStats>(new GetShardingStats());
            var rows = stats.Regions.Select(r => new
            {
                r.Node,
                r.Region,
                Shards = r.Shards.Length,
                Entities = r.Shards.Sum(s => s.Entities),
            }).ToArray();
            ctx.Output.Result(new { regions = rows, stats.Unanswered }, () =>
            {
                var table = new TableWriter("NODE", "REGION", "SHARDS", "ENTITIES").AlignRight(2, 3);
                foreach (var r in rows) table.Add(r.Node, r.Region, Number(r.Shards), Number(r.Entities));
                table.WriteTo(ctx.Output);
                Unanswered(ctx.Output, stats.Unanswered);
            });
        });
        var stats = new Command("stats", "entities per shard per node").Runs(async (ctx, _) =>
        {
            var stats = await ctx.Node<ShardingStats>(new GetShardingStats());
            ctx.Output.Result(stats, () =>
            {
                var table = new TableWriter("NODE", "REGION", "SHARD", "ENTITIES").AlignRight(3);
                foreach (var r in stats.Regions)
                foreach (var s in r.Shards)
                    table.Add(r.Node, r.Region, s.ShardId, Number(s.Entities));
                table.WriteTo(ctx.Output);
                if (table.Count == 0) ctx.Output.Note("no shards allocated yet: a shard appears once a queue in it is used");
                Unanswered(ctx.Output, stats.Unanswered);
            });
        });
        return new Command("sharding", "the partitions' shard regions") { regions, stats };
    }

    internal static string Number(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    internal static void Unanswered(CliOutput output, string[] unanswered)
    {
        if (unanswered.Length > 0) output.Note($"did not answer in time (not shown): {string.Join(", ", unanswered)}");
    }
}
