using Conduit.Server.Matching;

namespace Conduit.Server.Tests.Matching;

/// <summary>The bound on live journal events stated in docs/backlog-paging.md, for tests to hold the code to.</summary>
internal static class JournalBound
{
    /// <summary>Live events allowed with <paramref name="longLived"/> unsettled tasks and no fresh backlog.</summary>
    public static long Events(PartitionOptions o, long longLived) =>
        4L * o.SnapshotEvery + 2 * ((longLived + o.MaxWriteBatch - 1) / o.MaxWriteBatch) + 2;
}
