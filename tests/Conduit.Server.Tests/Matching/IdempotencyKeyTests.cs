using Conduit.Protocol;
using Conduit.Server.Matching;
using Xunit;
using static Conduit.Server.Tests.Matching.EngineHarness;

namespace Conduit.Server.Tests.Matching;

/// <summary>How long a partition remembers idempotency keys.</summary>
public sealed class IdempotencyKeyTests
{
    [Fact(DisplayName = "idempotency keys of settled tasks are forgotten after the retention, each by itself: a dead letter keeps only its own")]
    public void KeysPrunedPerTask()
    {
        var h = new EngineHarness(new PartitionOptions { IdempotencyRetentionMs = 1000, SnapshotEvery = 10 });
        var dead = h.Enqueue("dead", key: "k-dead");
        h.Call(new Fail(Assert.Single(h.Poll()).LeaseToken, "x", Retryable: false));
        for (var i = 0; i < 30; i++)
        {
            h.Enqueue($"t{i}", key: $"k{i}");
            h.Call(new Complete(Assert.Single(h.Poll()).LeaseToken));
        }
        Assert.Equal(31, h.Engine.Durable.IdempotencyKeys.Count);
        h.Advance(2000);
        for (var i = 0; i < 10; i++) h.Call(new PauseQueue("q")); // events enough for a snapshot
        Assert.Equal(["k-dead"], h.Engine.Durable.IdempotencyKeys.Keys);
        Assert.Equal(dead.TaskId, Assert.IsType<Enqueued>(h.Call(new Enqueue("q", Spec("again", key: "k-dead")))).TaskId);
    }
}
