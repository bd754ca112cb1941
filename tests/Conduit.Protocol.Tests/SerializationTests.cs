using Akka.Actor;
using Akka.Hosting;
using Conduit.Protocol;
using Conduit.Protocol.Serialization;
using Conduit.Server.Hosting;
using Conduit.Server.Persistence;
using Conduit.Testing;
using MemoryPack;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Conduit.Protocol.Tests;

public sealed class SerializationTests : IAsyncLifetime
{
    private IHost _host = null!;
    private ActorSystem _system = null!;

    public async Task InitializeAsync()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddAkka("serialization-test", akka => akka.WithConduitSerialization());
        _host = builder.Build();
        await _host.StartAsync();
        _system = _host.Services.GetRequiredService<ActorSystem>();
    }

    public async Task DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }

    public static TheoryData<object> Messages()
    {
        var spec = new TaskSpec([1, 2, 3], new Dictionary<string, string> { ["a"] = "b" }, 7, 100, 123456, "key", 3);
        var leased = new LeasedTask("default/q#0:17", "default/q#0:17:1:2:99", [9], null, 5, 1, 10, 1000, 2000);
        return
        [
            new PartitionEnvelope("default/q#0", new Enqueue("q", spec)),
            new PartitionEnvelope("default/q#1", new Complete("default/q#1:17:1:2:99")),
            new Enqueue("q", spec),
            new EnqueueBatch("q", [spec, spec with { Priority = 0 }]),
            new Poll("q", 10, 5000, 30000),
            new Heartbeat("t"), new Complete("t"), new Complete("t", ["u", "v"]), new Fail("t", "why", false), new CancelTask("x"), new GetTask("x"),
            new GetQueueStats("q"), new PauseQueue("q"), new ResumeQueue("q"), new PurgeQueue("q"),
            new ListDeadLetters("q", 5), new RequeueDeadLetters("q", ["a", "b"]), new RequeueDeadLetters("q"),
            new Rejected(ErrorCode.PayloadTooLarge, "too big"), new Enqueued("id", true), new EnqueuedBatch([new Enqueued("id", false)]),
            new BatchPartlyEnqueued([new Enqueued("id", false), null], [null, new Rejected(ErrorCode.QuotaExceeded, "full")]),
            new Polled([leased]), new HeartbeatAck(5, true), new Completed("id"), new CompletedBatch([null, new Rejected(ErrorCode.LeaseExpired, "late")]), new Failed("id", TaskStatus.Failed, 77),
            new Cancelled("id"), new TaskInfo("id", "q", TaskStatus.Running, 5, 1, 10, 0, "err"),
            new QueueStats("q", 1, 2, 3, 4, 5, 6, true, 1), new QueueStateChanged("q", true), new QueuePurged("q", 9),
            new DeadLetters("q", [new DeadLetter("id", 3, "r", 8)]), new DeadLettersRequeued("q", 2),
            new Poll("q", 1, 100, 0, 42), new CancelPoll("q", 42), new ReleaseTasks(["a", "b"]), new Released(2),
            new PartitionEnvelope("default/q#2", new ReleaseTasks(["t"])), new PartitionLoad(1, 2, 3, 4, 5, 6),
            new NodeLoad(["default/q#0", "default/q#1"], [3, 0], [0, 2], 7),
            new GetClusterState(), new ClusterState("akka.tcp://conduit@h:1", null, [new ClusterMember("akka.tcp://conduit@h:1", ["frontend"], "Up", true)]),
            new ChangeMembership(MembershipAction.Down, "akka.tcp://conduit@h:2", new Requester("ops", "box")),
            new MembershipChangeStarted(MembershipAction.Leave, "akka.tcp://conduit@h:2"),
            new GetShardingStats(), new ShardingStats([new RegionShards("akka.tcp://conduit@h:1", "partitions", [new ShardEntities("7", 2)])], ["x"]),
            new GetLocalPartitions(), new LocalPartitions("akka.tcp://conduit@h:1", ["default/q#0"]),
            new GetLocalSchedules(), new LocalSchedules("akka.tcp://conduit@h:1", ["default/nightly"]),
            new ListQueues(), new QueueList([new QueueStats("q", 1, 2, 3, 4, 5, 6, true, 1)], []),
            new OperatorRequest(new PurgeQueue("q"), new Requester("ops", "box")),
            // The same requests and replies in a namespace of their own.
            new PartitionEnvelope("billing/q#0", new Enqueue("q", spec, "billing")),
            new Enqueue("q", spec, "billing"), new EnqueueBatch("q", [spec], "billing"), new Poll("q", 10, 5000, 30000, 42, "billing"),
            new CancelPoll("q", 42, "billing"), new GetQueueStats("q", "billing"), new PauseQueue("q", "billing"), new ResumeQueue("q", "billing"),
            new PurgeQueue("q", "billing"), new ListDeadLetters("q", 5, 7, "billing/q#0:17", "billing"), new RequeueDeadLetters("q", ["a"], "billing"),
            new TaskInfo("billing/q#0:17", "q", TaskStatus.Running, 5, 1, 10, 0, null, "billing"),
            new QueueStats("q", 1, 2, 3, 4, 5, 6, true, 1, "billing"), new QueueStateChanged("q", true, "billing"), new QueuePurged("q", 9, "billing"),
            new DeadLetters("q", [], true, "billing"), new DeadLettersRequeued("q", 2, "billing"),
            new QueueList([new QueueStats("q", 1, 2, 3, 4, 5, 6, true, 1, "billing")], []),
            new OperatorRequest(new PurgeQueue("q", "billing"), new Requester("ops", "box")),
            // Workers and listings (docs/results.md).
            new Poll("q", 10, 5000, 30000, 42, "billing", "host-1:42"),
            new ListTasks("q", TaskStatus.Completed, 50, "1700000000000,billing/q#0:17", "billing"),
            new TaskList("q", TaskStatus.Running, [new TaskSummary("billing/q#0:17", TaskStatus.Running, 5, 2, 99, null, "host-1:42")], "billing/q#0:17", "billing"),
            new TaskInfo("billing/q#0:17", "q", TaskStatus.Completed, 5, 1, 10, 0, null, "billing",
                new TaskDetails([1], [2], [new TaskAttempt(1, 5, 6, AttemptOutcome.Completed, null, "host-1:42")], 4, 6, true)),
        ];
    }

    [Theory(DisplayName = "every protocol message round-trips through Conduit's binary serializer, never JSON")]
    [MemberData(nameof(Messages))]
    public void RoundTrip(object message)
    {
        var serializer = _system.Serialization.FindSerializerFor(message);
        Assert.IsType<ProtocolSerializer>(serializer);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
        var bytes = serializer.ToBinary(message);
        var back = _system.Serialization.Deserialize(bytes, serializer.Identifier, manifest);
        Assert.Equal(message.GetType(), back.GetType());
        Assert.Equal(bytes, serializer.ToBinary(back));
    }

    [Fact(DisplayName = "a node's serialization (WithConduitSerialization) refuses serializer id 1 instead of deserializing JSON")]
    public void HostingRefusesJson()
    {
        Assert.IsType<RefusingSerializer>(SerializerLookup.ById(_system.Serialization, RefusingSerializer.SerializerId));
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() =>
            _system.Serialization.Deserialize("{}"u8.ToArray(), RefusingSerializer.SerializerId, "System.IO.FileInfo, System.Private.CoreLib"));
    }

    [Fact(DisplayName = "every message type is registered under one unique manifest")]
    public void EveryTypeRegistered()
    {
        var registered = ProtocolSerializer.Registrations.Select(r => r.Item2).ToHashSet();
        var manifests = ProtocolSerializer.Registrations.Select(r => r.Item1).ToList();
        Assert.Equal(manifests.Count, manifests.Distinct().Count());
        var messageTypes = typeof(IConduitMessage).Assembly.GetTypes()
            .Where(t => typeof(IConduitMessage).IsAssignableFrom(t) && t is { IsClass: true, IsAbstract: false });
        Assert.All(messageTypes, t => Assert.Contains(t, registered));
    }

    [Fact(DisplayName = "journal events round-trip through the journal serializer")]
    public void JournalRoundTrip()
    {
        var batch = new PartitionBatch
        {
            Entries =
            [
                new BatchEntry { Kind = EntryKind.Enqueued, Seq = 33, Task = new TaskRecord { Seq = 33, Payload = [1, 2], EnqueuedAtMs = 5, RunAtMs = 5, MaxAttempts = 3, IdempotencyKey = "k" } },
                BatchEntry.Of(EntryKind.Retried, 33, 1, 99, "boom"),
            ],
        };
        var serializer = _system.Serialization.FindSerializerFor(batch);
        Assert.IsType<JournalSerializer>(serializer);
        var back = (PartitionBatch)_system.Serialization.Deserialize(serializer.ToBinary(batch), serializer.Identifier,
            Akka.Serialization.Serialization.ManifestFor(serializer, batch));
        Assert.Equal(MemoryPackSerializer.Serialize(batch), MemoryPackSerializer.Serialize(back));
        Assert.Equal("k", back.Entries[0].Task!.IdempotencyKey);
    }

    [Fact(DisplayName = "a completion and a dispatch hint stay small in the journal: bytes per task are what the database pays")]
    public void EntrySizes()
    {
        static int Size(BatchEntry entry) =>
            (MemoryPackSerializer.Serialize(new PartitionBatch { Entries = Enumerable.Repeat(entry, 51).ToArray() }).Length
             - MemoryPackSerializer.Serialize(new PartitionBatch { Entries = [entry] }).Length) / 50;
        var completed = Size(BatchEntry.Of(EntryKind.Completed, TaskId.MakeSeq(123_456, 5)));
        var dispatched = Size(new BatchEntry
        {
            Kind = EntryKind.Dispatched, Seq = TaskId.MakeSeq(123_456, 5), Attempt = 1, MaxAttempts = 10, EnqueuedAtMs = 1_764_000_000_000, Nonce = long.MaxValue,
        });
        // 62 bytes each today (fixed-size fields; the nonce added 8 and the lease key member 2 or so): a guard against growth.
        Assert.True(completed <= 64 && dispatched <= 64, $"completed {completed} B, dispatched {dispatched} B per entry");
    }

    [Theory(DisplayName = "ids and lease tokens parse back to what was written, and junk does not parse")]
    [InlineData("default/q#0:17", true)]
    [InlineData("default/my.queue-1#12:9000000000", true)]
    [InlineData("default/Q#0:1", false)]
    [InlineData("q#0:1", false)]
    [InlineData("default/q#0:", false)]
    [InlineData("default/q#x:1", false)]
    [InlineData("default/q#0:25", true)]
    [InlineData("default/q#0:26", false)] // priority bits 10: no such priority
    [InlineData("default/q#0:31", false)] // priority bits 15
    [InlineData("default/q#0:9", false)]  // counter 0: counters start at 1
    [InlineData("default/q#0:-17", false)]
    [InlineData("default/q#-1:17", false)]
    [InlineData("", false)]
    public void TaskIds(string text, bool valid)
    {
        Assert.Equal(valid, TaskId.TryParse(text, out var id));
        if (valid) Assert.Equal(text, id.ToString());
    }

    [Fact(DisplayName = "a lease token names its task, attempt, epoch, nonce and MAC")]
    public void LeaseTokens()
    {
        var token = new LeaseToken(new TaskId(PartitionId.Of("q", 3), TaskId.MakeSeq(42, 7)), 2, 5, 123456789, "bWFjbWFjbWFjbWFjbWFjbQ");
        Assert.Equal("default/q#3:679:2:5:123456789:bWFjbWFjbWFjbWFjbWFjbQ", token.ToString());
        Assert.Equal("default/q#3:679:2:5:123456789", token.SignedPart);
        Assert.True(LeaseToken.TryParse(token.ToString(), out var back));
        Assert.Equal(token, back);
        Assert.Equal(7, back.Task.Priority);
        Assert.Equal(42, back.Task.Counter);
        Assert.False(LeaseToken.TryParse("default/q#3:1:2:x:4:mac", out _));
        Assert.False(LeaseToken.TryParse("default/q#3:679:2:5:123456789", out _), "a token without its MAC");
        Assert.False(LeaseToken.TryParse("default/q#3:679:0:5:123456789:mac", out _), "attempt 0 is never handed out");
        Assert.False(LeaseToken.TryParse("default/q#3:682:2:5:123456789:mac", out _), "priority bits 10");
        Assert.False(LeaseToken.TryParse("default/q#3:679:2:5:123456789:" + new string('m', 600), out _), "longer than any token");
    }

    [Fact(DisplayName = "a namespace round-trips on every queue request and reply, and defaults to 'default'")]
    public void NamespacesRoundTrip()
    {
        var spec = new TaskSpec([1]);
        Assert.Equal(PartitionId.DefaultNamespace, new Enqueue("q", spec).Namespace);
        Assert.Equal(PartitionId.DefaultNamespace, new QueueStats("q", 0, 0, 0, 0, 0, 0, false, 1).Namespace);
        IPartitionRequest[] requests =
        [
            new Enqueue("q", spec, "b"), new EnqueueBatch("q", [spec], "b"), new Poll("q", 1, 0, Namespace: "b"), new CancelPoll("q", 1, "b"),
            new GetQueueStats("q", "b"), new PauseQueue("q", "b"), new ResumeQueue("q", "b"), new PurgeQueue("q", "b"),
            new ListDeadLetters("q", Namespace: "b"), new RequeueDeadLetters("q", null, "b"),
        ];
        foreach (var request in requests)
        {
            var back = MemoryPackSerializer.Deserialize<IPartitionRequest>(MemoryPackSerializer.Serialize(request))!;
            Assert.Equal(request.GetType(), back.GetType());
            Assert.Equal("b", ((dynamic)back).Namespace);
        }
    }

    [Fact(DisplayName = "a request in the layout from before namespaces (no last member) still reads, and means the default namespace")]
    public void LayoutBeforeNamespaces()
    {
        var bytes = MemoryPackSerializer.Serialize(new Enqueue("q", new TaskSpec([1, 2]), null!));
        Assert.Equal(3, bytes[0]); // three members now: the namespace was added at the end
        // The old layout: two members, and no trailing null string (4 bytes: length -1).
        var old = bytes[..^4];
        old[0] = 2;
        var back = MemoryPackSerializer.Deserialize<Enqueue>(old)!;
        Assert.Equal("q", back.Queue);
        Assert.Equal(new byte[] { 1, 2 }, back.Task.Payload);
        Assert.Equal(PartitionId.DefaultNamespace, NamespaceName.OrDefault(back.Namespace));
    }

    [Fact(DisplayName = "a poll from before worker names (no last member) still reads, with no worker")]
    public void PollBeforeWorkerNames()
    {
        var bytes = MemoryPackSerializer.Serialize(new Poll("q", 1, 100, 0, 7, "default", null));
        Assert.Equal(7, bytes[0]); // seven members now: the worker was added at the end
        var old = bytes[..^4]; // no trailing null string (length -1)
        old[0] = 6;
        var back = MemoryPackSerializer.Deserialize<Poll>(old)!;
        Assert.Equal(("q", 7L, "default", (string?)null), (back.Queue, back.PollId, back.Namespace, back.Worker));
    }

    [Theory(DisplayName = "worker names are 1-128 printable ASCII characters")]
    [InlineData("host-1:4242", true)]
    [InlineData("payments worker@10.0.0.7", true)]
    [InlineData("", false)]
    [InlineData("line\nbreak", false)]
    [InlineData("naïve", false)]
    [InlineData("\u001b[31mred", false)]
    public void WorkerNames(string name, bool valid)
    {
        Assert.Equal(valid, WorkerName.IsValid(name));
        Assert.False(WorkerName.IsValid(new string('w', WorkerName.MaxLength + 1)));
        Assert.True(WorkerName.IsValid(new string('w', WorkerName.MaxLength)));
    }

    [Theory(DisplayName = "namespace names follow the queue-name rule, and the refusal text says namespace")]
    [InlineData("default", true)]
    [InlineData("billing.eu-1_x", true)]
    [InlineData("Billing", false)]
    [InlineData("a/b", false)]
    [InlineData("", false)]
    [InlineData("ns\n", false)]
    public void NamespaceNames(string name, bool valid)
    {
        Assert.Equal(valid, NamespaceName.IsValid(name));
        Assert.StartsWith("invalid namespace", NamespaceName.Describe(name));
        Assert.Equal(valid, PartitionId.TryParse($"{name}/q#0", out _));
    }

    [Theory(DisplayName = "queue names follow [a-z0-9][a-z0-9._-]{0,127}")]
    [InlineData("emails", true)]
    [InlineData("a.b_c-d9", true)]
    [InlineData("Emails", false)]
    [InlineData("-x", false)]
    [InlineData("has space", false)]
    [InlineData("q\n", false)]
    [InlineData("q\r\n", false)]
    [InlineData("", false)]
    public void QueueNames(string name, bool valid) => Assert.Equal(valid, QueueName.IsValid(name));
}
