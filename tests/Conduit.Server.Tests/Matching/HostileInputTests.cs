using Conduit.Protocol;
using Conduit.Server.Matching;
using Xunit;
using static Conduit.Server.Tests.Matching.EngineHarness;

namespace Conduit.Server.Tests.Matching;

/// <summary>What a partition does with requests an attacker writes by hand: forged leases, crafted ids, replies that would not fit a frame.</summary>
public sealed class HostileInputTests
{
    private static string Forge(string token, Func<LeaseToken, LeaseToken> change)
    {
        Assert.True(LeaseToken.TryParse(token, out var real));
        return change(real).ToString();
    }

    [Fact(DisplayName = "a lease token with any field changed, or another task's MAC, is refused, and the real worker's lease still works")]
    public void ForgedLeases()
    {
        var h = new EngineHarness();
        h.Enqueue("a");
        h.Enqueue("b");
        var tasks = h.Poll(max: 2);
        var (a, b) = (tasks[0].LeaseToken, tasks[1].LeaseToken);
        Assert.True(LeaseToken.TryParse(b, out var bToken));
        var forgeries = new[]
        {
            Forge(a, t => t with { Nonce = t.Nonce ^ 1 }),
            Forge(a, t => t with { Epoch = t.Epoch + 1 }),
            Forge(a, t => t with { Attempt = t.Attempt + 1 }),
            Forge(a, t => t with { Mac = bToken.Mac }),
            Forge(a, t => t with { Mac = "AAAAAAAAAAAAAAAAAAAAAA" }),
            Forge(a, t => t with { Mac = "not base64!" }),
        };
        foreach (var forged in forgeries)
        {
            foreach (var request in new IPartitionRequest[] { new Heartbeat(forged), new Complete(forged), new Fail(forged, "x") })
                Assert.Equal(ErrorCode.UnknownLease, Assert.IsType<Rejected>(h.Call(request)).Code);
            Assert.Equal(new Released(0), h.Call(new ReleaseTasks([forged])));
        }
        Assert.Equal(2, h.Engine.Stats().Running);
        Assert.IsType<HeartbeatAck>(h.Call(new Heartbeat(a)));
        Assert.IsType<Completed>(h.Call(new Complete(a)));
        Assert.IsType<Completed>(h.Call(new Complete(b)));
    }

    [Fact(DisplayName = "after a restart (a new owner epoch) the running task's real token still works, and no other nonce or epoch does")]
    public void LeasesAcrossEpochs()
    {
        var h = new EngineHarness();
        h.Enqueue("a");
        var a = Assert.Single(h.Poll()).LeaseToken;
        Assert.True(LeaseToken.TryParse(a, out var token));
        h.Restart();
        h.Restart();
        // The new owner knows the lease key (from the journal) and the delivery's nonce and epoch (from the dispatch hint).
        foreach (var forged in new[] { Forge(a, t => t with { Nonce = t.Nonce + 1 }), Forge(a, t => t with { Epoch = token.Epoch + 2 }) })
            Assert.Equal(ErrorCode.UnknownLease, Assert.IsType<Rejected>(h.Call(new Heartbeat(forged))).Code);
        Assert.IsType<HeartbeatAck>(h.Call(new Heartbeat(a)));
        Assert.IsType<Completed>(h.Call(new Complete(a)));
    }

    [Fact(DisplayName = "a token from an earlier delivery is refused once the task was delivered again, in a later epoch")]
    public void EarlierDeliveryRefused()
    {
        var h = new EngineHarness(new PartitionOptions { LeaseTimeoutMs = 1000, RetryInitialMs = 10, RetryJitter = 0 });
        h.Enqueue("a");
        var first = Assert.Single(h.Poll()).LeaseToken;
        h.Restart();
        h.Advance(1000); // nobody claimed it within a lease timeout: retried
        h.Advance(20);
        var second = Assert.Single(h.Poll()).LeaseToken;
        Assert.Equal(ErrorCode.LeaseExpired, Assert.IsType<Rejected>(h.Call(new Complete(first))).Code);
        Assert.IsType<Completed>(h.Call(new Complete(second)));
    }

    [Theory(DisplayName = "crafted task ids (priority bits 10-15, counter 0, another partition) are refused without harm")]
    [InlineData("default/q#0:26")]
    [InlineData("default/q#0:31")]
    [InlineData("default/q#0:15")]
    [InlineData("default/q#1:17")]
    [InlineData("other/q#0:17")]
    public void CraftedTaskIds(string id)
    {
        var h = new EngineHarness();
        h.Enqueue("a");
        foreach (var request in new IPartitionRequest[] { new CancelTask(id), new GetTask(id), new RequeueDeadLetters("q", [id]) })
            Assert.Equal(ErrorCode.TaskNotFound, Assert.IsType<Rejected>(h.Call(request)).Code);
        Assert.Equal("a", Text(Assert.Single(h.Poll())));
    }

    [Fact(DisplayName = "a queue request naming another namespace or queue, sent straight to a partition, is refused and changes nothing")]
    public void RequestForAnotherQueue()
    {
        var h = new EngineHarness();
        h.Enqueue("a");
        IPartitionRequest[] requests =
        [
            new Enqueue("q", new TaskSpec([1]), "other"), new Enqueue("r", new TaskSpec([1])), new Poll("q", 1, 0, Namespace: "other"),
            new PurgeQueue("q", "other"), new PauseQueue("r"), new GetQueueStats("q", "other"), new RequeueDeadLetters("q", null, "other"),
        ];
        foreach (var request in requests)
            Assert.Equal(ErrorCode.InvalidArgument, Assert.IsType<Rejected>(h.Call(request)).Code);
        Assert.IsType<QueueStats>(h.Call(new GetQueueStats("q", null!)));
        Assert.Equal("a", Text(Assert.Single(h.Poll())));
    }

    [Fact(DisplayName = "a task id with a real task's counter but another priority names no task: it cannot cancel or report that task")]
    public void WrongPriorityNibble()
    {
        var h = new EngineHarness(new PartitionOptions { ReadyWindow = 1 });
        var loaded = h.Enqueue("loaded", priority: 5);  // in the window
        var backlog = h.Enqueue("backlog", priority: 5); // only in the journal (window of 1)
        foreach (var real in new[] { loaded.TaskId, backlog.TaskId })
        {
            Assert.True(TaskId.TryParse(real, out var id));
            var forged = (id with { Seq = TaskId.MakeSeq(id.Counter, 0) }).ToString();
            Assert.Equal(ErrorCode.TaskNotFound, Assert.IsType<Rejected>(h.Call(new GetTask(forged))).Code);
            Assert.Equal(ErrorCode.TaskNotFound, Assert.IsType<Rejected>(h.Call(new CancelTask(forged))).Code);
        }
        Assert.Equal(TaskStatus.Ready, Assert.IsType<TaskInfo>(h.Call(new GetTask(backlog.TaskId))).Status);
        h.Restart();
        h.Enqueue("later", priority: 0);
        var all = new List<string>();
        for (var i = 0; i < 10 && all.Count < 3; i++) all.AddRange(h.Poll(max: 3).Select(Text));
        Assert.Equal(["backlog", "later", "loaded"], all.Order());
    }

    [Fact(DisplayName = "cancelling a backlog task that is only in the journal works once the lookup confirms it")]
    public void CancelBacklogTask()
    {
        var h = new EngineHarness(new PartitionOptions { ReadyWindow = 1 });
        h.Enqueue("loaded");
        var backlog = h.Enqueue("backlog");
        Assert.IsType<Cancelled>(h.Call(new CancelTask(backlog.TaskId)));
        Assert.Equal(TaskStatus.Cancelled, Assert.IsType<TaskInfo>(h.Call(new GetTask(backlog.TaskId))).Status);
        Assert.Equal(["loaded"], h.Poll(max: 5).Select(Text));
        Assert.Empty(h.Poll(max: 5));
    }

    [Fact(DisplayName = "paging dead letters over partitions never skips one when a partition's page is cut by bytes")]
    public void DeadLetterMergeNeverSkips()
    {
        var reason = new string('r', 2000);
        var partitions = new[]
        {
            Enumerable.Range(1, 700).Select(i => new DeadLetter($"default/q#0:{i * 16 + 5}", 1, reason, i)).ToList(),
            [new DeadLetter("default/q#1:21", 1, "short", 10_000)],
        };
        var seen = new List<DeadLetter>();
        var request = new ListDeadLetters("q", ListDeadLetters.MaxLimit);
        for (var round = 0; round < 20; round++)
        {
            var pages = partitions.Select(items =>
            {
                var (page, more) = DeadLetterPage.Take(items.Where(d => d.IsAfter(request)).Order(DeadLetter.Order), request.Limit);
                return new DeadLetters("q", page, more);
            }).ToList();
            var merged = DeadLetterPage.Merge(request, pages);
            seen.AddRange(merged.Items);
            if (!merged.More) break;
            request = request with { AfterFailedAtUnixMs = merged.Items[^1].FailedAtUnixMs, AfterTaskId = merged.Items[^1].TaskId };
        }
        Assert.Equal(701, seen.Count);
        Assert.Equal(701, seen.Select(d => d.TaskId).Distinct().Count());
    }

    [Fact(DisplayName = "a poll gets fewer tasks rather than a reply too big to send; the rest stay ready with no attempt used")]
    public void PollReplyFitsAFrame()
    {
        var h = new EngineHarness();
        var payload = new byte[256 * 1024];
        for (var i = 0; i < 40; i++) h.Call(new Enqueue("q", new TaskSpec(payload)));
        var received = new List<LeasedTask>();
        var polls = 0;
        while (received.Count < 40 && polls++ < 40)
        {
            var tasks = h.Poll(max: 40);
            Assert.NotEmpty(tasks);
            Assert.True(tasks.Sum(t => (long)t.Payload.Length) <= WireLimits.MaxReplyBytes, "a reply stays within half a frame");
            received.AddRange(tasks);
        }
        Assert.True(polls > 1, "40 tasks of 256 KiB do not fit one reply");
        Assert.Equal(40, received.Select(t => t.TaskId).Distinct().Count());
        Assert.All(received, t => Assert.Equal(1, t.Attempt));
    }

    [Fact(DisplayName = "dead letters page: each page within the count and one reply, a cursor continues where the last page ended")]
    public void DeadLettersPage()
    {
        var h = new EngineHarness();
        for (var i = 0; i < 25; i++) h.Enqueue($"t{i}");
        foreach (var t in h.Poll(max: 25)) h.Call(new Fail(t.LeaseToken, new string('r', 1500), Retryable: false));
        var seen = new List<string>();
        ListDeadLetters list = new("q", Limit: 10);
        for (var page = 0; page < 10; page++)
        {
            var letters = Assert.IsType<DeadLetters>(h.Call(list));
            Assert.True(letters.Items.Length <= 10);
            seen.AddRange(letters.Items.Select(d => d.TaskId));
            if (!letters.More) break;
            var last = letters.Items[^1];
            list = list with { AfterFailedAtUnixMs = last.FailedAtUnixMs, AfterTaskId = last.TaskId };
        }
        Assert.Equal(25, seen.Count);
        Assert.Equal(25, seen.Distinct().Count());
    }

    [Theory(DisplayName = "a dead-letter limit outside 1..10,000 is refused, not clamped")]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(10_001)]
    public void DeadLetterLimit(int limit)
    {
        var h = new EngineHarness();
        Assert.Equal(ErrorCode.InvalidArgument, Assert.IsType<Rejected>(h.Call(new ListDeadLetters("q", limit))).Code);
    }

    [Fact(DisplayName = "more ids in one request than allowed are refused whole")]
    public void TooManyIds()
    {
        var h = new EngineHarness();
        h.Enqueue("a");
        var lease = Assert.Single(h.Poll()).LeaseToken;
        var many = Enumerable.Repeat(lease, TaskSpecRules.MaxIdsPerRequest).ToArray();
        Assert.Equal(ErrorCode.InvalidArgument, Assert.IsType<Rejected>(h.Call(new Complete(lease, many))).Code);
        Assert.Equal(ErrorCode.InvalidArgument, Assert.IsType<Rejected>(h.Call(new RequeueDeadLetters("q", Enumerable.Repeat("default/q#0:17", 1001).ToArray()))).Code);
        Assert.IsType<Completed>(h.Call(new Complete(lease)));
    }

    [Fact(DisplayName = "a batch larger than the writer can ever take is InvalidArgument, not Overloaded")]
    public void OversizedBatch()
    {
        var h = new EngineHarness(new PartitionOptions { OutstandingWriteLimit = 100 });
        var reply = Assert.IsType<Rejected>(h.Call(new EnqueueBatch("q", Enumerable.Range(0, 101).Select(i => Spec($"t{i}")).ToArray())));
        Assert.Equal(ErrorCode.InvalidArgument, reply.Code);
        Assert.Contains("at most 100", reply.Message);
        Assert.Empty(h.Writes);
        Assert.IsType<EnqueuedBatch>(h.Call(new EnqueueBatch("q", Enumerable.Range(0, 100).Select(i => Spec($"t{i}")).ToArray())));
    }

    [Fact(DisplayName = "a task scheduled up to a year ahead is accepted and reported with its run-at time")]
    public void ScheduledWithinAYear()
    {
        var h = new EngineHarness();
        var runAt = h.Now + 365L * 86_400_000;
        var id = Assert.IsType<Enqueued>(h.Call(new Enqueue("q", new TaskSpec([1], RunAtUnixMs: runAt)))).TaskId;
        var info = Assert.IsType<TaskInfo>(h.Call(new GetTask(id)));
        Assert.Equal(TaskStatus.Scheduled, info.Status);
        Assert.Equal(runAt, info.RunAtUnixMs);
    }
}
