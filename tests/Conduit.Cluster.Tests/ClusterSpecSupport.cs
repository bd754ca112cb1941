using System.Text;
using Akka.Actor;
using Conduit.Protocol;
using Conduit.Server.Hosting;
using Conduit.Testing;

namespace Conduit.Cluster.Tests;

internal static class ClusterSpecSupport
{
    public static readonly string[] Frontend = [ConduitServerOptions.FrontendRole];
    public static readonly string[] TaskService = [ConduitServerOptions.TaskServiceRole];
    public static readonly string[] Both = [ConduitServerOptions.FrontendRole, ConduitServerOptions.TaskServiceRole];

    public static string Text(LeasedTask t) => Encoding.UTF8.GetString(t.Payload);

    /// <summary>Waits until every node sees <paramref name="count"/> members Up.</summary>
    public static Task AllUp(int count, params TestNode[] nodes) => Eventually.Holds(() =>
    {
        foreach (var node in nodes)
        {
            var members = Akka.Cluster.Cluster.Get(node.System).State.Members;
            if (members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up) != count)
                throw new InvalidOperationException($"{node.Address} sees {members.Count} members");
        }
        return Task.CompletedTask;
    }, timeoutMs: 30_000);

    /// <summary>Polls and completes until <paramref name="expected"/> distinct payloads were seen or time runs out; returns every delivery.</summary>
    public static async Task<List<LeasedTask>> DrainAll(TestNode via, string[] queues, int expected, int timeoutMs = 60_000)
    {
        var deliveries = new List<LeasedTask>();
        var seen = new HashSet<string>();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (seen.Count < expected && watch.ElapsedMilliseconds < timeoutMs)
        {
            foreach (var q in queues)
            {
                LeasedTask[] tasks;
                try { tasks = await via.Poll(q, max: 50, waitMs: 300); }
                catch (RejectedException e) when (e.Code == ErrorCode.Unavailable) { continue; }
                catch (AskTimeoutException) { continue; }
                foreach (var t in tasks)
                {
                    deliveries.Add(t);
                    seen.Add(Text(t));
                    try { await via.Ask<Completed>(new Complete(t.LeaseToken), TimeSpan.FromSeconds(5)); }
                    catch (RejectedException) { }
                    // A shard region drops what it buffered for a shard that is moving (Akka: "Dropping buffered messages
                    // to shard during hand off"), so a complete sent into a rebalance may get no answer: its outcome is
                    // unknown, as for any client; the lease runs out and the task comes again.
                    catch (AskTimeoutException) { }
                }
            }
        }
        return deliveries;
    }
}
