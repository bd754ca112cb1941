using Akka.Event;
using Conduit.Protocol;

namespace Conduit.Server.Matching;

/// <summary>
/// What a partition says in the node's log about its availability: recoveries, and outages logged when they start and
/// when they end, not at every retry. The logger is made on first use: an actor's logger holds its path as a string
/// (about 260 bytes with the logger), and most partitions never log (a new one logs its recovery at debug level).
/// </summary>
/// <param name="levels">A logger whose levels are the node's (the system's), asked before a debug line is made.</param>
/// <param name="make">Makes the partition's own logger (<c>Context.GetLogger()</c>).</param>
/// <param name="monotonicMs">The clock outages are timed on; <see cref="Environment.TickCount64"/> when null.</param>
internal sealed class PartitionLog(PartitionId id, ILoggingAdapter levels, Func<ILoggingAdapter> make, Func<long>? monotonicMs = null)
{
    private ILoggingAdapter? _log;
    /// <summary>When the partition stopped serving, or -1 while it serves.</summary>
    private long _unavailableSinceMs = -1;

    private ILoggingAdapter Log => _log ??= make();
    private long Now => monotonicMs?.Invoke() ?? Environment.TickCount64;

    /// <summary>
    /// The partition serves from <paramref name="durable"/>: the end of an outage, if there was one; then the recovery,
    /// at info level for a partition with history (a restart, a failover, a passivated queue's return) and at debug level
    /// for a new one, which recovers nothing: creating 100,000 queues must not write 100,000 lines.
    /// </summary>
    public void Recovered(DurablePartitionState durable)
    {
        if (_unavailableSinceMs >= 0)
        {
            Log.Info("Partition {Partition} serves again after {UnavailableSeconds} s unavailable", id, Math.Round((Now - _unavailableSinceMs) / 1000.0, 1));
            _unavailableSinceMs = -1;
        }
        if (durable.LastEventSeqNr > 0)
            Log.Info("Partition {Partition} recovered at event {SequenceNr}, epoch {Epoch}: {Ready} ready, {OtherLive} other live tasks",
                id, durable.LastEventSeqNr, durable.Epoch, durable.TotalFresh, durable.Exceptions.Count);
        else if (levels.IsDebugEnabled)
            Log.Debug("Partition {Partition} recovered new (no event), epoch {Epoch}", id, durable.Epoch);
    }

    /// <summary>Requests waited <paramref name="waitMs"/> for a recovery that goes on: an outage, if none had started.</summary>
    public void RecoveryWaitOver(long waitMs)
    {
        if (OutageStarts())
            Log.Warning("Partition {Partition} has not recovered within {RecoveryWaitMs} ms; answering Unavailable until it has", id, waitMs);
    }

    /// <summary>The partition lost its storage: a warning when the outage starts, a debug line at every retry after.</summary>
    public void Unavailable(string reason, long retryMs)
    {
        if (OutageStarts()) Log.Warning("Partition {Partition} is unavailable ({Reason}); recovering every {RecoveryBackoffMs} ms until it serves again", id, reason, retryMs);
        else if (levels.IsDebugEnabled) Log.Debug("Partition {Partition} is still unavailable ({Reason})", id, reason);
    }

    public void ReadFailed(Exception cause) => Log.Warning(cause, "Paging in from the journal of {Partition} failed; trying again", id);

    /// <summary>Marks the start of an outage; false when the partition was already out of service (a retry is not news).</summary>
    private bool OutageStarts()
    {
        if (_unavailableSinceMs >= 0) return false;
        _unavailableSinceMs = Now;
        return true;
    }
}
