using Akka.Actor;
using Conduit.Server.Gossip;

namespace Conduit.Server.Matching;

/// <summary>
/// The timers of a serving partition (<see cref="QueuePartition"/>), all one-shot or stopped when not needed, so an idle
/// partition holds one timer and thousands of quiet queues cost no CPU. After every message (<see cref="AfterMessage"/>)
/// it starts only what the engine's state now asks for:
/// <list type="bullet">
/// <item>the tick (<see cref="PartitionOptions.TickMs"/>) while the engine has time-driven work (leases, delayed tasks, a
/// backlog to page in); it stops at the first tick without any (<see cref="OnTick"/>);</item>
/// <item>one gossip report after a message that may have changed the load, only for queues of several partitions
/// (frontends route a single partition's requests without it);</item>
/// <item>compaction at rest while something waits for it;</item>
/// <item>one passivation check while the partition is idle (<see cref="PassivationDue"/>), cancelled when it gets busy.</item>
/// </list>
/// Each check is a field read or a timer lookup.
/// </summary>
/// <param name="gossips">Whether the partition reports its load: whether its queue has more than one partition.</param>
/// <param name="monotonicMs">The clock idle time is counted on (tests move it); <see cref="Environment.TickCount64"/> when null.</param>
internal sealed class PartitionUpkeep(PartitionOptions options, bool gossips, Func<long>? monotonicMs = null)
{
    public sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
    public sealed class GossipTick
    {
        public static readonly GossipTick Instance = new();
    }
    public sealed class Housekeeping
    {
        public static readonly Housekeeping Instance = new();
    }
    public sealed class PassivateCheck
    {
        public static readonly PassivateCheck Instance = new();
    }

    private const string TickTimer = "tick", GossipTimer = "gossip", HousekeepingTimer = "housekeeping", PassivateTimer = "passivate";

    /// <summary>When the partition last became idle (on <see cref="Now"/>'s clock), or -1 while it is not idle.</summary>
    private long _idleSinceMs = -1;
    private bool _ticking;
    /// <summary>The load last reported, or null before the first report.</summary>
    private PartitionLoad? _reported;

    /// <summary>Serving: <see cref="AfterMessage"/> keeps the timers. False before <see cref="Start"/> and after <see cref="Stop"/>.</summary>
    public bool Serving { get; private set; }

    /// <summary>Whether a load was reported, so the node's load gossip must be told when the partition stops.</summary>
    public bool HasReported => _reported is not null;

    private long Now => monotonicMs?.Invoke() ?? Environment.TickCount64;

    /// <summary>The partition serves (it recovered): keep its timers from now on.</summary>
    public void Start(PartitionEngine engine, ITimerScheduler timers)
    {
        Serving = true;
        _idleSinceMs = -1;
        AfterMessage(null, engine, timers);
    }

    /// <summary>The partition stops serving (moving, passivating, storage lost): no timer of its is kept.</summary>
    public void Stop(ITimerScheduler timers)
    {
        Serving = false;
        _ticking = false;
        timers.CancelAll();
    }

    /// <summary>After every message while serving: starts the timers the engine's state now asks for, and none other.</summary>
    /// <param name="message">
    /// The message just handled (a gossip tick does not start the gossip timer again), or null. As the actor's
    /// <c>AroundReceive</c> sees it: a timer's message still in Akka's wrapper, which is looked through here (a gossip
    /// tick taken for another message would start the next one, and every partition of a multi-partition queue would
    /// then wake each <see cref="PartitionOptions.GossipIntervalMs"/> for as long as it serves).
    /// </param>
    public void AfterMessage(object? message, PartitionEngine engine, ITimerScheduler timers)
    {
        if (message is IWrappedMessage wrapped) message = wrapped.Message; // Akka's timer wrapper is internal: look through any
        if (!_ticking && engine.NeedsTick)
        {
            _ticking = true;
            timers.StartPeriodicTimer(TickTimer, Tick.Instance, TimeSpan.FromMilliseconds(options.TickMs));
        }
        if (gossips && message is not GossipTick && !timers.IsTimerActive(GossipTimer))
            timers.StartSingleTimer(GossipTimer, GossipTick.Instance, TimeSpan.FromMilliseconds(options.GossipIntervalMs));
        if (engine.WantsCompactionAtRest && !timers.IsTimerActive(HousekeepingTimer))
            timers.StartSingleTimer(HousekeepingTimer, Housekeeping.Instance, TimeSpan.FromMilliseconds(options.CompactAtRestAfterMs));
        if (!engine.IsIdle)
        {
            // Busy: no passivation check until it is idle again. A queue holding tasks nobody polls (thousands of
            // them, commonly) so holds no timer: each would cost about 400 bytes and a visit of the scheduler's wheel
            // every round of it.
            if (_idleSinceMs >= 0) timers.Cancel(PassivateTimer);
            _idleSinceMs = -1;
        }
        else if (_idleSinceMs < 0)
        {
            _idleSinceMs = Now;
            engine.OnIdle();
            if (!timers.IsTimerActive(PassivateTimer))
                timers.StartSingleTimer(PassivateTimer, PassivateCheck.Instance, TimeSpan.FromMilliseconds(options.PassivateIdleAfterMs));
        }
    }

    /// <summary>The tick: the engine's time-driven work, then the tick stops if nothing time-driven is left.</summary>
    public void OnTick(PartitionEngine engine, ITimerScheduler timers)
    {
        engine.OnTick();
        if (engine.NeedsTick) return;
        timers.Cancel(TickTimer);
        _ticking = false;
    }

    /// <summary>
    /// The gossip timer fired: the load to report when what routing reads (ready tasks, waiting pollers) changed since
    /// the last report, null otherwise. A busy partition so reports about once per
    /// <see cref="PartitionOptions.GossipIntervalMs"/>, a quiet one never.
    /// </summary>
    public PartitionLoad? LoadToReport(PartitionEngine engine)
    {
        var load = engine.Load();
        if (_reported is { } last && last.Ready == load.Ready && last.Pollers == load.Pollers) return null;
        _reported = load;
        return load;
    }

    /// <summary>
    /// The passivation check fired: true when the partition has been idle without a break for
    /// <see cref="PartitionOptions.PassivateIdleAfterMs"/> (then it stops serving: it is going). A check that fires early
    /// waits out the rest; a busy spell cancels it, and <see cref="AfterMessage"/> starts it again once the partition is
    /// idle.
    /// </summary>
    public bool PassivationDue(PartitionEngine engine, ITimerScheduler timers)
    {
        if (_idleSinceMs < 0 || !engine.IsIdle) return false;
        var idleFor = Now - _idleSinceMs;
        if (idleFor < options.PassivateIdleAfterMs)
        {
            timers.StartSingleTimer(PassivateTimer, PassivateCheck.Instance, TimeSpan.FromMilliseconds(options.PassivateIdleAfterMs - idleFor));
            return false;
        }
        Serving = false;
        return true;
    }
}
