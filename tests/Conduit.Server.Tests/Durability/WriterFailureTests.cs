using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Sql.Journal;
using Conduit.Protocol;
using Conduit.Server.Hosting;
using Conduit.Testing;
using Xunit;

namespace Conduit.Server.Tests.Durability;

/// <summary>The SQL journal, whose writes fail (after a delay) while <see cref="Failing"/> is set.</summary>
public sealed class FailingSqlJournal(Config config) : SqlWriteJournal(config)
{
    public static volatile bool Failing;

    protected override async Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        if (!Failing) return await base.WriteMessagesAsync(messages, cancellationToken);
        await Task.Delay(300, cancellationToken);
        throw new InvalidOperationException("the test's journal refuses writes");
    }
}

/// <summary>
/// A partition whose writes fail while a flood of requests arrives: every request gets exactly one answer, in time
/// (the writer answers what it held; the partition answers what died in the writer's mailbox or was on its way).
/// </summary>
public sealed class WriterFailureTests
{
    [Fact(DisplayName = "a write failing under a flood of enqueues: every enqueue is answered, Enqueued or Unavailable, none left to time out; the partition serves again afterwards")]
    public async Task EveryRequestAnswered()
    {
        await using var node = await TestNode.StartAsync(new NodeSettings
        {
            Port = 0,
            ClusterPort = 0,
            Storage = TestStores.NewSqlite(),
            Server = new ConduitServerOptions { Partition = TestNode.FastPartitionOptions },
            ExtraHocon = $"akka.persistence.journal.sql.class = \"{typeof(FailingSqlJournal).AssemblyQualifiedName}\"",
        });
        const string q = "failing";
        await node.Enqueue(q, "first");
        try
        {
            FailingSqlJournal.Failing = true;
            // A steady stream across the failure: some appends are in the writer's buffer when its write fails, some behind
            // the failure in its mailbox, some on their way after it stopped.
            var asks = new List<Task<object>>();
            for (var i = 0; i < 400; i++)
            {
                asks.Add(node.Frontend.Ask<object>(new Enqueue(q, new TaskSpec([(byte)i])), TimeSpan.FromSeconds(15)));
                if (i % 8 == 7) await Task.Delay(10);
            }
            var answers = await Task.WhenAll(asks); // an unanswered request would throw AskTimeoutException here
            Assert.All(answers, a => Assert.True(a is Enqueued or Rejected { Code: ErrorCode.Unavailable }, $"{a}"));
            Assert.Contains(answers, a => a is Rejected);
        }
        finally
        {
            FailingSqlJournal.Failing = false;
        }
        await Eventually.Holds(async () => Assert.IsType<Enqueued>(await node.Frontend.Ask<object>(new Enqueue(q, new TaskSpec([1])), TimeSpan.FromSeconds(5))),
            timeoutMs: 30_000, intervalMs: 200);
    }
}
