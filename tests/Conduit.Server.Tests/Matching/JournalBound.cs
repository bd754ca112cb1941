using Conduit.Server.Matching;

namespace Conduit.Server.Tests.Matching;

/// <summary>The bound on live journal events stated in docs/backlog-paging.md, for tests to hold the code to.</summary>
internal static class JournalBound
{
    /// <summary>
    /// Live events allowed with <paramref name="longLived"/> unsettled tasks and no fresh backlog: with R the events one
    /// round of relocation writes (a write's worth of tasks each), 4 × max(SnapshotEvery, R) + 2 × R, and 2 for the
    /// owner epoch and the event being written.
    /// </summary>
    public static long Events(PartitionOptions o, long longLived)
    {
        var r = (longLived + o.MaxWriteBatch - 1) / o.MaxWriteBatch;
        return 4 * Math.Max(o.SnapshotEvery, r) + 2 * r + 2;
    }
}
