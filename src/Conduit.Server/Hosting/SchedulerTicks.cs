using Conduit.Protocol.Remoting;

namespace Conduit.Server.Hosting;

/// <summary>
/// How often each of a node's two ActorSystems (the cluster system and the client endpoint's) wakes for its scheduler.
/// Akka's scheduler is a <c>PeriodicTimer</c> at <c>akka.scheduler.tick-duration</c>, 10 ms by default: every tick wakes
/// the runtime's timer thread and a thread-pool worker, whether anything is due or not, so two systems woke an idle node
/// about 300 times a second. With these ticks an idle node (SQLite, no load, 20 s, alternating pairs) uses about 1.5% of
/// a core instead of 2.7-4.8% (BENCHMARKS.md, round two, item 13).
/// <para>
/// The price: a timer of the system fires up to about two ticks after its time (measured: up to 100 ms at 50 ms ticks). On the cluster system that is a partition's
/// flush of writes nobody waits for (<see cref="Matching.PartitionOptions.UnawaitedWriteDelayMs"/>, 20 ms, now about
/// 45-120 ms), its tick for delayed tasks and leases (every 100 ms either way), long-poll deadlines, schedules' due
/// times and Akka's own timers (heartbeats, gossip, retries: a second or more). A request that waits for no timer (an
/// enqueue, a poll that finds a task, a completion) does not wait for a tick. The client endpoint's only timers are
/// remoting's and the gateways' request deadlines (seconds). The cluster system's can be set again with <c>--hocon</c>
/// (<c>akka.scheduler.tick-duration</c>).
/// </para>
/// </summary>
public static class SchedulerTicks
{
    /// <summary>The cluster system's tick: 50 ms.</summary>
    public static readonly TimeSpan ClusterSystem = TimeSpan.FromMilliseconds(50);

    /// <summary>The client endpoint system's tick: 100 ms, as every remoting-only system's (<see cref="RemotingEndpoint.RemoteOnlySchedulerTick"/>).</summary>
    public static TimeSpan ClientEndpoint => RemotingEndpoint.RemoteOnlySchedulerTick;

    /// <summary>The setting for a system whose tick is <paramref name="tick"/>.</summary>
    public static string Hocon(TimeSpan tick) => $"akka.scheduler.tick-duration = {(long)tick.TotalMilliseconds}ms";
}
