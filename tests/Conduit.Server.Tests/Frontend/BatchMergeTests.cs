using Conduit.Protocol;
using Conduit.Server.Frontend;
using Xunit;

namespace Conduit.Server.Tests.Frontend;

/// <summary>How the frontend answers a keyed batch whose parts went to different partitions.</summary>
public sealed class BatchMergeTests
{
    private static readonly Rejected Overloaded = new(ErrorCode.Overloaded, "full");
    private static readonly Rejected Unknown = new(ErrorCode.Unavailable, "no answer");
    private static readonly Rejected Quota = new(ErrorCode.QuotaExceeded, "quota");

    private static (List<int>, object) P(int[] indexes, object reply) => (indexes.ToList(), reply);

    [Fact(DisplayName = "every part enqueued: one EnqueuedBatch in the order given")]
    public void AllEnqueued()
    {
        var merged = Assert.IsType<EnqueuedBatch>(QueueFrontend.MergeBatch(3,
            [P([2, 0], new EnqueuedBatch([new Enqueued("c", false), new Enqueued("a", false)])), P([1], new EnqueuedBatch([new Enqueued("b", true)]))]));
        Assert.Equal(["a", "b", "c"], merged.Results.Select(r => r.TaskId));
    }

    [Fact(DisplayName = "some parts enqueued: BatchPartlyEnqueued, task by task")]
    public void Partly()
    {
        var merged = Assert.IsType<BatchPartlyEnqueued>(QueueFrontend.MergeBatch(3,
            [P([0, 2], new EnqueuedBatch([new Enqueued("a", false), new Enqueued("c", false)])), P([1], Quota)]));
        Assert.Equal(["a", null, "c"], merged.Results.Select(r => r?.TaskId));
        Assert.Equal([null, ErrorCode.QuotaExceeded, null], merged.Refusals.Select(r => r?.Code));
    }

    [Fact(DisplayName = "every part refused: a part whose fate is unknown makes the answer Unavailable; Overloaded only when all said so")]
    public void AllRefused()
    {
        Assert.Equal(ErrorCode.Unavailable, Assert.IsType<Rejected>(QueueFrontend.MergeBatch(2, [P([0], Overloaded), P([1], Unknown)])).Code);
        Assert.Equal(ErrorCode.QuotaExceeded, Assert.IsType<Rejected>(QueueFrontend.MergeBatch(2, [P([0], Overloaded), P([1], Quota)])).Code);
        Assert.Equal(ErrorCode.Overloaded, Assert.IsType<Rejected>(QueueFrontend.MergeBatch(2, [P([0], Overloaded), P([1], Overloaded)])).Code);
    }
}
