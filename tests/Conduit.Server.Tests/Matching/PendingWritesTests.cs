using Conduit.Server.Matching;
using Xunit;

namespace Conduit.Server.Tests.Matching;

public sealed class PendingWritesTests
{
    [Fact(DisplayName = "entries sent count as outstanding until reported durable, and never below zero")]
    public void Outstanding()
    {
        var pending = new PendingWrites(nextCounter: 1);
        pending.Sent(3);
        pending.Sent(2);
        Assert.Equal(5, pending.Outstanding);
        pending.Persisted(3);
        Assert.Equal(2, pending.Outstanding);
        pending.Persisted(4); // an event the partition did not send (a relocation of a previous incarnation)
        Assert.Equal(0, pending.Outstanding);
    }

    [Fact(DisplayName = "counters are handed out from the durable state's next counter on, one per enqueue")]
    public void Counters()
    {
        var pending = new PendingWrites(nextCounter: 41);
        Assert.Equal(41, pending.TakeCounter());
        Assert.Equal(42, pending.TakeCounter());
        Assert.Equal(43, pending.NextCounter);
    }

    [Fact(DisplayName = "an idempotency key being written names its task until that very enqueue is durable")]
    public void Keys()
    {
        var pending = new PendingWrites(1);
        Assert.Equal(0, pending.SeqOfKey("k"));
        pending.AddKey("k", 16);
        Assert.Equal(16, pending.SeqOfKey("k"));
        pending.KeyPersisted("k", 32); // another task's enqueue with the key: not this one
        Assert.Equal(16, pending.SeqOfKey("k"));
        pending.KeyPersisted("k", 16);
        Assert.Equal(0, pending.SeqOfKey("k"));
    }

    [Fact(DisplayName = "idempotency keys are compared exactly, by ordinal")]
    public void KeysAreOrdinal()
    {
        var pending = new PendingWrites(1);
        pending.AddKey("k", 16);
        Assert.Equal(0, pending.SeqOfKey("K"));
    }

    [Fact(DisplayName = "a task being settled reports how until its settlement is durable")]
    public void Settling()
    {
        var pending = new PendingWrites(1);
        pending.MarkSettling(16, TaskStatus.Completed);
        pending.MarkSettling(32, TaskStatus.Cancelled);
        Assert.True(pending.IsSettling(16));
        Assert.True(pending.TryGetSettling(32, out var status));
        Assert.Equal(TaskStatus.Cancelled, status);
        pending.ForgetSettling(16);
        Assert.False(pending.IsSettling(16));
        Assert.False(pending.TryGetSettling(16, out _));
    }
}
