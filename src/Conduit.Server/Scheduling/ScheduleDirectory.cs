using Akka.Actor;
using Akka.Cluster.Sharding;
using Conduit.Server.Hosting;

namespace Conduit.Server.Scheduling;

/// <summary>Which schedules there are: the schedule entities the task-service nodes run (schedules are remembered, so every one runs).</summary>
internal static class ScheduleDirectory
{
    /// <summary>A schedule's answer to <see cref="GetSchedule"/> within <paramref name="timeout"/>: its state, a refusal (ScheduleNotFound: an entity without a schedule), or null for no answer.</summary>
    public static async Task<object?> State(IActorRef schedules, string name, string ns, TimeSpan timeout)
    {
        try
        {
            return await schedules.Ask<object>(new GetSchedule(name, ns), timeout);
        }
        catch (Exception)
        {
            return null;
        }
    }

    /// <summary>
    /// The names of namespace <paramref name="ns"/>'s schedule entities on <paramref name="hosts"/> (sorted), and the
    /// nodes that did not answer within <paramref name="timeout"/> or whose region could not ask some of its shards.
    /// </summary>
    public static async Task<(List<string> Names, List<string> Unanswered)> Names(ActorSystem system, IReadOnlyList<Address> hosts, string ns,
        TimeSpan timeout)
    {
        var answers = await Task.WhenAll(hosts.Select(async address =>
        {
            try
            {
                var region = system.ActorSelection(new RootActorPath(address) / "system" / "sharding" / ConduitHostingExtensions.SchedulesTypeName);
                return await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, timeout);
            }
            catch (Exception)
            {
                return null;
            }
        }));
        // A node whose region could not say what some of its shards run (Failed) has not answered either.
        var unanswered = hosts.Where((_, i) => answers[i] is null || answers[i]!.Failed.Count > 0).Select(a => a.ToString()).ToList();
        var names = answers.Where(a => a is not null).SelectMany(a => a!.Shards.SelectMany(s => s.EntityIds))
            .Select(id => ScheduleMessageExtractor.TryParse(id, out var n, out var name) && n == ns ? name : null)
            .OfType<string>().Distinct().Order(StringComparer.Ordinal).ToList();
        return (names, unanswered);
    }
}
