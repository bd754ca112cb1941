using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Persistence;
using Akka.Persistence.Journal;
using Akka.TestKit.Xunit2;
using Conduit.Server.Matching;
using Conduit.Server.Persistence;
using Xunit;

namespace Conduit.Server.Tests.Matching;

/// <summary>An in-memory journal whose writes take a while and which records how many run at once and what each carries.</summary>
public sealed class SlowJournal : MemoryJournal
{
    public static readonly ConcurrentQueue<int> AtomicWritesPerCall = new();
    public static int MostAtOnce;
    private static int _atOnce;

    public static void Reset()
    {
        AtomicWritesPerCall.Clear();
        MostAtOnce = 0;
        _atOnce = 0;
    }

    protected override async Task<IImmutableList<Exception?>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        var writes = messages.ToList();
        var now = Interlocked.Increment(ref _atOnce);
        int most;
        while (now > (most = Volatile.Read(ref MostAtOnce)) && Interlocked.CompareExchange(ref MostAtOnce, now, most) != most) { }
        AtomicWritesPerCall.Enqueue(writes.Count);
        try
        {
            await Task.Delay(20, cancellationToken);
            return await base.WriteMessagesAsync(writes, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _atOnce);
        }
    }
}

/// <summary>
/// What <see cref="PartitionOptions.MaxWritesInFlight"/> really means on Akka.Persistence: a persistent actor has one
/// <c>WriteMessages</c> at the journal at a time; the events it persists meanwhile wait in Akka's own batch and go out
/// together as the next call, the moment the current one succeeds.
/// </summary>
public sealed class WritePipelineTests() : TestKit("""
    akka.loglevel = WARNING
    akka.persistence.journal.plugin = "akka.persistence.journal.slow"
    akka.persistence.journal.slow.class = "Conduit.Server.Tests.Matching.SlowJournal, Conduit.Server.Tests"
    akka.persistence.journal.slow.plugin-dispatcher = "akka.actor.default-dispatcher"
    akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
    """)
{
    private static BatchEntry Entry(long seq) => new()
    {
        Kind = EntryKind.Enqueued, Seq = seq, Task = new TaskRecord { Seq = seq, Payload = [1], EnqueuedAtMs = 1, RunAtMs = 1, MaxAttempts = 1 },
    };

    [Theory(DisplayName = "one journal call at a time per partition whatever MaxWritesInFlight says; events beyond the first wait and share the next call")]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void OneCallAtATime(int writesInFlight)
    {
        SlowJournal.Reset();
        var partition = CreateTestProbe();
        var writer = Sys.ActorOf(TaskWriter.Props("pipeline-" + Guid.NewGuid().ToString("N"),
            new PartitionOptions { MaxWritesInFlight = writesInFlight, MaxWriteBatch = 10 }, partition.Ref));
        partition.ExpectMsg<TaskWriter.Recovered>(TimeSpan.FromSeconds(10));

        for (var i = 1; i <= 200; i++) writer.Tell(new TaskWriter.Append([Entry(i)], TestActor, i));
        var seen = new List<long>();
        while (seen.Count < 200) seen.AddRange(partition.ExpectMsg<TaskWriter.Persisted>(TimeSpan.FromSeconds(20)).Batch.Entries.Select(e => e.Seq));
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), seen);
        Assert.Equal(Enumerable.Range(1, 200), ReceiveN(200, TimeSpan.FromSeconds(10)).Cast<int>());

        var calls = SlowJournal.AtomicWritesPerCall.ToArray();
        Assert.Equal(1, SlowJournal.MostAtOnce);
        // Never two calls at once; a call carries the events that waited for the previous one.
        Assert.All(calls, n => Assert.InRange(n, 1, writesInFlight));
        if (writesInFlight > 2) Assert.Contains(calls, n => n > 1);
    }
}
