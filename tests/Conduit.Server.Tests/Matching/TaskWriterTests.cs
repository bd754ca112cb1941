using Akka.Actor;
using Akka.TestKit.Xunit2;
using Conduit.Server.Matching;
using Conduit.Server.Persistence;
using Xunit;

namespace Conduit.Server.Tests.Matching;

/// <summary>The writer alone, on Akka's in-memory journal: batching, ordering, replies after durability.</summary>
public sealed class TaskWriterTests() : TestKit("akka.loglevel = WARNING")
{
    private static BatchEntry Entry(long seq) => new()
    {
        Kind = EntryKind.Enqueued, Seq = seq, Task = new TaskRecord { Seq = seq, Payload = [1], EnqueuedAtMs = 1, RunAtMs = 1, MaxAttempts = 1 },
    };

    private IActorRef StartWriter(Akka.TestKit.TestProbe partition, PartitionOptions options)
    {
        var writer = Sys.ActorOf(TaskWriter.Props("writer-" + Guid.NewGuid().ToString("N"), options, partition.Ref));
        var recovered = partition.ExpectMsg<TaskWriter.Recovered>(TimeSpan.FromSeconds(10));
        Assert.Equal(1, recovered.Durable.Epoch); // the first owner holds epoch 1 before anything else (written with its first event)
        return writer;
    }

    [Fact(DisplayName = "appends that arrive while a write is in flight go out together as one event, in order, each answered after it is durable")]
    public void BatchesWhileWriting()
    {
        var partition = CreateTestProbe();
        var writer = StartWriter(partition, new PartitionOptions { MaxWritesInFlight = 1, MaxWriteBatch = 500 });
        for (var i = 1; i <= 300; i++) writer.Tell(new TaskWriter.Append([Entry(i)], TestActor, i));

        var seen = new List<long>();
        var events = 0;
        while (seen.Count < 300)
        {
            var persisted = partition.ExpectMsg<TaskWriter.Persisted>(TimeSpan.FromSeconds(10));
            events++;
            seen.AddRange(persisted.Batch.Entries.Select(e => e.Seq));
        }
        Assert.Equal(Enumerable.Range(1, 300).Select(i => (long)i), seen);
        Assert.True(events < 300, $"{events} events for 300 appends");
        var replies = ReceiveN(300, TimeSpan.FromSeconds(10)).Cast<int>().ToList();
        Assert.Equal(Enumerable.Range(1, 300), replies);
    }

    [Fact(DisplayName = "no event carries more than MaxWriteBatch entries")]
    public void RespectsMaxBatch()
    {
        var partition = CreateTestProbe();
        var writer = StartWriter(partition, new PartitionOptions { MaxWritesInFlight = 1, MaxWriteBatch = 50 });
        for (var i = 1; i <= 200; i++) writer.Tell(new TaskWriter.Append([Entry(i)], null, null));
        var total = 0;
        while (total < 200)
        {
            var persisted = partition.ExpectMsg<TaskWriter.Persisted>(TimeSpan.FromSeconds(10));
            Assert.InRange(persisted.Batch.Entries.Length, 1, 50);
            total += persisted.Batch.Entries.Length;
        }
    }

    [Fact(DisplayName = "an append with nothing to write is answered only after the writes before it are durable")]
    public void EmptyAppendWaitsForEarlierWrites()
    {
        var partition = CreateTestProbe();
        var writer = StartWriter(partition, new PartitionOptions { MaxWritesInFlight = 1 });
        writer.Tell(new TaskWriter.Append([Entry(1)], TestActor, "first"));
        writer.Tell(new TaskWriter.Append([], TestActor, "duplicate"));
        ExpectMsg("first");
        ExpectMsg("duplicate");
        partition.ExpectMsg<TaskWriter.Persisted>();
    }

    [Fact(DisplayName = "a restarted writer recovers what was written and claims the next epoch")]
    public void RecoversAndBumpsEpoch()
    {
        var partition = CreateTestProbe();
        var id = "writer-" + Guid.NewGuid().ToString("N");
        var writer = Sys.ActorOf(TaskWriter.Props(id, new PartitionOptions(), partition.Ref));
        partition.ExpectMsg<TaskWriter.Recovered>();
        writer.Tell(new TaskWriter.Append([Entry(TaskIdSeq(1)), Entry(TaskIdSeq(2))], TestActor, "ok"));
        ExpectMsg("ok");
        Watch(writer);
        Sys.Stop(writer);
        ExpectTerminated(writer);
        Sys.ActorOf(TaskWriter.Props(id, new PartitionOptions(), partition.Ref));
        var recovered = partition.FishForMessage<TaskWriter.Recovered>(_ => true, TimeSpan.FromSeconds(10));
        Assert.Equal((2L, 2L), (recovered.Durable.Epoch, recovered.Durable.TotalFresh));
    }

    [Fact(DisplayName = "a partition that has never written writes no epoch event of its own: its first epoch and lease key lead its first event")]
    public void FirstEpochLeadsTheFirstEvent()
    {
        var partition = CreateTestProbe();
        var id = "writer-" + Guid.NewGuid().ToString("N");

        // Recovered and stopped without a write (a queue only polled): nothing was written, so the next owner is epoch 1 again.
        var idle = RecoverAndStop(id, partition);
        Assert.Equal((1L, 0L), (idle.Epoch, idle.LastEventSeqNr));
        var owner = Sys.ActorOf(TaskWriter.Props(id, new PartitionOptions(), partition.Ref));
        var first = partition.ExpectMsg<TaskWriter.Recovered>(TimeSpan.FromSeconds(10)).Durable;
        Assert.Equal(1L, first.Epoch);

        // Its first write is event 1 and carries the epoch; the partition is told only the entries it asked for.
        owner.Tell(new TaskWriter.Append([Entry(TaskIdSeq(1))], TestActor, "ok"));
        var persisted = partition.ExpectMsg<TaskWriter.Persisted>(TimeSpan.FromSeconds(10));
        Assert.Equal(1L, persisted.SeqNr);
        Assert.Equal([EntryKind.Enqueued], persisted.Batch.Entries.Select(e => e.Kind));
        ExpectMsg("ok");
        owner.Tell(new TaskWriter.Append([Entry(TaskIdSeq(2))], TestActor, "ok"));
        Assert.Equal(2L, partition.ExpectMsg<TaskWriter.Persisted>(TimeSpan.FromSeconds(10)).SeqNr);
        ExpectMsg("ok");
        Watch(owner);
        Sys.Stop(owner);
        ExpectTerminated(owner);

        // The next owner recovers that epoch and that key (tokens stay valid) and fences with an event of its own.
        var next = RecoverAndStop(id, partition);
        Assert.Equal((2L, 3L, 2L), (next.Epoch, next.LastEventSeqNr, next.TotalFresh));
        Assert.Equal(first.LeaseKey, next.LeaseKey);
    }

    private DurablePartitionState RecoverAndStop(string persistenceId, Akka.TestKit.TestProbe partition)
    {
        var writer = Sys.ActorOf(TaskWriter.Props(persistenceId, new PartitionOptions(), partition.Ref));
        var recovered = partition.ExpectMsg<TaskWriter.Recovered>(TimeSpan.FromSeconds(10)).Durable;
        Watch(writer);
        Sys.Stop(writer);
        ExpectTerminated(writer);
        return recovered;
    }

    private static long TaskIdSeq(long counter) => Conduit.Protocol.TaskId.MakeSeq(counter, 5);

    [Fact(DisplayName = "a write nobody waits on shares the next awaited write, or goes out on its own after a short delay")]
    public void UnawaitedWritesShareEvents()
    {
        // Sharing: a delay no machine reaches between the two appends (a 300 ms one was once outrun by a busy test
        // thread, and the hint went alone), so the hint can only leave with the awaited write.
        var partition = CreateTestProbe();
        var writer = StartWriter(partition, new PartitionOptions { UnawaitedWriteDelayMs = 60_000 });
        writer.Tell(new TaskWriter.Append([Entry(1)], null, null)); // a dispatch hint, say
        partition.ExpectNoMsg(TimeSpan.FromMilliseconds(150));
        writer.Tell(new TaskWriter.Append([Entry(2)], TestActor, "acked"));
        var shared = partition.ExpectMsg<TaskWriter.Persisted>(TimeSpan.FromSeconds(5));
        Assert.Equal([1L, 2L], shared.Batch.Entries.Select(e => e.Seq));
        ExpectMsg("acked");

        // Alone: with nothing awaited after it, the hint goes out once its short delay has passed.
        var quick = CreateTestProbe();
        var quickWriter = StartWriter(quick, new PartitionOptions { UnawaitedWriteDelayMs = 300 });
        var sent = System.Diagnostics.Stopwatch.StartNew();
        quickWriter.Tell(new TaskWriter.Append([Entry(3)], null, null));
        var alone = quick.ExpectMsg<TaskWriter.Persisted>(TimeSpan.FromSeconds(5));
        Assert.Equal([3L], alone.Batch.Entries.Select(e => e.Seq));
        Assert.True(sent.ElapsedMilliseconds >= 250, $"written after {sent.ElapsedMilliseconds} ms, before its delay");
    }
}
