using Akka.Actor;
using Akka.TestKit.Xunit2;
using Conduit.Protocol;
using Conduit.Server.History;
using Conduit.Server.Hosting;
using Conduit.Testing;
using Xunit;

namespace Conduit.Server.Tests.Durability;

/// <summary>The node's task history writer alone (TestKit, a real SQLite store): when answers go out, and what a requester hears when the history cannot be written.</summary>
public sealed class TaskHistoryActorTests : TestKit
{
    private static readonly TaskHistoryOptions Fast = new() { RetryIntervalMs = 20, LingerMs = 200, TrimIntervalMs = 60_000 };

    private static HistoryRecord Start(string id, int attempt = 1, long epoch = 1) =>
        new(HistoryChange.Started, id, "default", "q", attempt, 1_000, Payload: [1, 2], EnqueuedAtMs: 900, Epoch: epoch);

    private static HistoryRecord Done(string id, byte[]? output, int attempt = 1, long epoch = 1, int index = 0) =>
        new(HistoryChange.Finished, id, "default", "q", attempt, 2_000, AttemptOutcome.Completed, Status: TaskStatus.Completed, Output: output,
            StartedAtMs: 1_000, Epoch: epoch, ReplyIndex: index);

    [Fact(DisplayName = "a completion is answered once its result is stored; a start that lingers is folded into it; GetTask's details read it back")]
    public async Task AnswersAfterWrite()
    {
        var store = new TaskHistoryStore(TestStores.NewSqlite());
        var history = Sys.ActorOf(TaskHistoryActor.Props(store, Fast));
        var worker = CreateTestProbe();
        history.Tell(new TaskHistoryActor.Record([Start("default/q#0:1")]));
        history.Tell(new TaskHistoryActor.RecordThenReply([Done("default/q#0:1", [42])], worker.Ref, new Completed("default/q#0:1")));
        Assert.Equal("default/q#0:1", worker.ExpectMsg<Completed>(TimeSpan.FromSeconds(10)).TaskId);

        var details = await store.ReadAsync("default/q#0:1", CancellationToken.None);
        Assert.NotNull(details);
        Assert.Equal([1, 2], details.Payload);
        Assert.Equal([42], details.Output);
        Assert.Equal((900L, 2_000L), (details.EnqueuedAtUnixMs, details.FinishedAtUnixMs));
        var attempt = Assert.Single(details.Attempts);
        Assert.Equal((1, 1_000L, 2_000L, AttemptOutcome.Completed), (attempt.Attempt, attempt.StartedAtUnixMs, attempt.EndedAtUnixMs, attempt.Outcome));

        // A start with no change after it is written once it has lingered.
        history.Tell(new TaskHistoryActor.Record([Start("default/q#0:2")]));
        await AwaitAssertAsync(async () => Assert.Equal(AttemptOutcome.Running,
            Assert.Single((await store.ReadAsync("default/q#0:2", CancellationToken.None))!.Attempts).Outcome), TimeSpan.FromSeconds(10));

        // The partition moved (owner epoch 2 completed it again, with another result); a start of the old owner (epoch 1)
        // that arrives late does not reopen the task.
        history.Tell(new TaskHistoryActor.RecordThenReply([Done("default/q#0:1", [43], attempt: 2, epoch: 2)], worker.Ref, new Completed("default/q#0:1")));
        worker.ExpectMsg<Completed>(TimeSpan.FromSeconds(10));
        history.Tell(new TaskHistoryActor.RecordThenReply([Start("default/q#0:1", attempt: 1, epoch: 1) with { AtMs = 3_000 }], null, null));
        history.Tell(new TaskHistoryActor.Drain(), worker.Ref);
        worker.ExpectMsg<Akka.Done>(TimeSpan.FromSeconds(10));
        var after = await store.ReadAsync("default/q#0:1", CancellationToken.None);
        Assert.Equal(2_000L, after!.FinishedAtUnixMs);
        Assert.Equal([43], after.Output);
        Assert.Equal([AttemptOutcome.Completed, AttemptOutcome.Completed], after.Attempts.Select(a => a.Outcome));
    }

    [Fact(DisplayName = "a history that cannot be written: answers without a result go out at once; a lost result is reported for its lease alone, within the tries")]
    public void CannotWrite()
    {
        // A database file in a folder that does not exist: every open fails.
        var store = new TaskHistoryStore(new StorageOptions(StorageKind.Sqlite, $"Data Source={Path.Combine(Path.GetTempPath(), "no-such-dir-" + Guid.NewGuid().ToString("N"), "x.db")};Mode=ReadWrite"));
        var history = Sys.ActorOf(TaskHistoryActor.Props(store, Fast));
        var withResult = CreateTestProbe();
        var withoutResult = CreateTestProbe();
        var batch = CreateTestProbe();
        history.Tell(new TaskHistoryActor.RecordThenReply([Done("default/q#0:2", null)], withoutResult.Ref, new Completed("default/q#0:2")));
        Assert.Equal("default/q#0:2", withoutResult.ExpectMsg<Completed>(TimeSpan.FromSeconds(1)).TaskId);

        history.Tell(new TaskHistoryActor.RecordThenReply([Done("default/q#0:1", [1])], withResult.Ref, new Completed("default/q#0:1")));
        // Leases 0 and 2 completed (0 with a result), lease 1 was refused by the partition.
        var expired = new Rejected(ErrorCode.LeaseExpired, "expired");
        history.Tell(new TaskHistoryActor.RecordThenReply([Done("default/q#0:3", [3], index: 0), Done("default/q#0:5", null, index: 2)],
            batch.Ref, new CompletedBatch([null, expired, null])));

        var refused = withResult.ExpectMsg<Rejected>(TimeSpan.FromSeconds(10));
        Assert.Equal(ErrorCode.Unavailable, refused.Code);
        Assert.Contains("completed, but its result may not have been kept", refused.Message);
        var answers = batch.ExpectMsg<CompletedBatch>(TimeSpan.FromSeconds(10)).Refusals;
        Assert.Equal(ErrorCode.Unavailable, answers[0]!.Code);
        Assert.Same(expired, answers[1]);
        Assert.Null(answers[2]);
    }

    [Fact(DisplayName = "reads go through the history: a listing pages settled tasks newest first; a store that cannot be read answers each read with its fallback")]
    public void Reads()
    {
        var store = new TaskHistoryStore(TestStores.NewSqlite());
        var history = Sys.ActorOf(TaskHistoryActor.Props(store, Fast));
        var asker = CreateTestProbe();
        var ids = Enumerable.Range(1, 3).Select(i => $"default/q#0:{i * 16 + 5}").ToArray();
        for (var i = 0; i < ids.Length; i++)
            history.Tell(new TaskHistoryActor.RecordThenReply([Done(ids[i], [1]) with { AtMs = 2_000 + i }], asker.Ref, new Completed(ids[i])));
        asker.ReceiveN(3, TimeSpan.FromSeconds(10));

        var list = new ListTasks("q", TaskStatus.Completed, 2);
        history.Tell(new TaskHistoryReader.ListSettled(list, null, asker.Ref));
        var first = asker.ExpectMsg<TaskList>(TimeSpan.FromSeconds(10));
        Assert.Equal([ids[2], ids[1]], first.Items.Select(i => i.TaskId));
        Assert.Equal($"2001,{ids[1]}", first.Next);
        Assert.Null(Conduit.Server.Matching.TaskListing.Check(list with { After = first.Next }, out var cursor));
        history.Tell(new TaskHistoryReader.ListSettled(list with { After = first.Next }, cursor, asker.Ref));
        var second = asker.ExpectMsg<TaskList>(TimeSpan.FromSeconds(10));
        Assert.Equal([ids[0]], second.Items.Select(i => i.TaskId));
        Assert.Null(second.Next);
        history.Tell(new TaskHistoryReader.ListSettled(list with { State = TaskStatus.Cancelled }, null, asker.Ref));
        Assert.Empty(asker.ExpectMsg<TaskList>(TimeSpan.FromSeconds(10)).Items);

        var broken = Sys.ActorOf(TaskHistoryActor.Props(new TaskHistoryStore(new StorageOptions(StorageKind.Sqlite,
            $"Data Source={Path.Combine(Path.GetTempPath(), "no-such-dir-" + Guid.NewGuid().ToString("N"), "x.db")};Mode=ReadWrite")), Fast));
        var info = new TaskInfo(ids[0], "q", TaskStatus.Completed, 5, 1, 10, 0, null);
        broken.Tell(new TaskHistoryReader.Describe(info, asker.Ref));
        Assert.Same(info, asker.ExpectMsg<TaskInfo>(TimeSpan.FromSeconds(10)));
        broken.Tell(new TaskHistoryReader.ListSettled(list, null, asker.Ref));
        var refused = asker.ExpectMsg<Rejected>(TimeSpan.FromSeconds(10));
        Assert.Equal(ErrorCode.Unavailable, refused.Code);
        Assert.Contains("SQLite Error", refused.Message); // the real cause, not a timeout
    }
}
