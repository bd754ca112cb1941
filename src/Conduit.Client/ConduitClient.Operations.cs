using System.Text;

namespace Conduit.Client;

// The typed operations: one method per request of the protocol (Commands.cs), each answering with its reply
// or throwing the ConduitException for the refusal's code. Queue requests name the client's namespace
// (ConduitClientOptions.Namespace); task ids and lease tokens carry their own.
public sealed partial class ConduitClient
{
    /// <summary>The namespace this client's queue requests name (<see cref="ConduitClientOptions.Namespace"/>).</summary>
    public string Namespace => Options.Namespace;

    /// <summary>How long <see cref="PollAsync"/> waits for work when the caller does not say. 20 s.</summary>
    public static readonly TimeSpan DefaultPollWait = TimeSpan.FromSeconds(20);

    /// <summary>Enqueues one task; returns once it is durable. A repeated idempotency key returns the original id with <c>Duplicate</c>.</summary>
    public Task<Enqueued> EnqueueAsync(string queue, byte[] payload, EnqueueOptions? options = null, CancellationToken cancellationToken = default)
    {
        var spec = EnqueueOptions.Spec(payload, options);
        if (WireBytes(spec) > MaxRequestBytes)
            throw new PayloadTooLargeException($"the task is {WireBytes(spec)} bytes with its headers, more than one request may carry " +
                                               $"({MaxRequestBytes}; nodes accept payloads up to 256 KiB by default); nothing was sent");
        return RequestAsync<Enqueued>(new Enqueue(queue, spec, Namespace), null, cancellationToken);
    }

    /// <summary>Enqueues one task whose payload is <paramref name="text"/> as UTF-8.</summary>
    public Task<Enqueued> EnqueueAsync(string queue, string text, EnqueueOptions? options = null, CancellationToken cancellationToken = default) =>
        EnqueueAsync(queue, Encoding.UTF8.GetBytes(text), options, cancellationToken);

    /// <summary>
    /// Enqueues many tasks in one request (one journal write per partition); results are in the order given. Tasks
    /// without an idempotency key go to one partition together, so the batch is all or nothing; tasks with keys go to
    /// the partitions their keys pick, each of which commits its part on its own: if some commit and others refuse,
    /// <see cref="BatchPartlyEnqueuedException"/> says which tasks were enqueued.
    /// </summary>
    public async Task<IReadOnlyList<Enqueued>> EnqueueBatchAsync(string queue, IEnumerable<TaskSpec> tasks, CancellationToken cancellationToken = default)
    {
        var array = tasks.ToArray();
        var bytes = array.Sum(WireBytes);
        if (bytes > MaxRequestBytes)
            throw new InvalidArgumentException($"the batch is {bytes} bytes, more than one request may carry ({MaxRequestBytes}); split it. Nothing was sent");
        return await RequestAsync<object>(new EnqueueBatch(queue, array, Namespace), null, cancellationToken).ConfigureAwait(false) switch
        {
            EnqueuedBatch all => all.Results,
            Rejected rejected => throw ConduitException.From(rejected),
            BatchPartlyEnqueued part => throw new BatchPartlyEnqueuedException(part),
            var other => throw new ConduitProtocolException($"expected EnqueuedBatch in answer to EnqueueBatch, got {other.GetType().Name}"),
        };
    }

    /// <summary>
    /// Most bytes of tasks one request carries: remoting drops a message larger than its frame
    /// (<see cref="WireLimits.MaximumFrameBytes"/>) without a word, so a request that would not fit is refused here, with
    /// room left for the envelope.
    /// </summary>
    public const int MaxRequestBytes = WireLimits.MaximumFrameBytes - 256 * 1024;

    /// <summary>At least the bytes a task takes on the wire: payload, and headers and key in UTF-8.</summary>
    private static long WireBytes(TaskSpec? spec)
    {
        if (spec is null) return 0;
        long bytes = (spec.Payload?.Length ?? 0) + 32 + (spec.IdempotencyKey is { } key ? Encoding.UTF8.GetByteCount(key) : 0)
                     + (spec.ConcurrencyKey is { } concurrencyKey ? Encoding.UTF8.GetByteCount(concurrencyKey) : 0);
        if (spec.Headers is { } headers)
            foreach (var (name, value) in headers) bytes += 8 + Encoding.UTF8.GetByteCount(name) + (value is null ? 0 : Encoding.UTF8.GetByteCount(value));
        return bytes;
    }

    /// <summary>Enqueues one task per payload, all with the same <paramref name="options"/>.</summary>
    public Task<IReadOnlyList<Enqueued>> EnqueueBatchAsync(string queue, IEnumerable<byte[]> payloads, EnqueueOptions? options = null,
        CancellationToken cancellationToken = default) =>
        EnqueueBatchAsync(queue, payloads.Select(p => EnqueueOptions.Spec(p, options)), cancellationToken);

    /// <summary>
    /// Long-poll: up to <paramref name="maxTasks"/> tasks leased to the caller for <paramref name="lease"/> (default: the queue's,
    /// 30 s), or an empty list shortly before <paramref name="wait"/> (default 20 s) runs out. The request times out after
    /// <paramref name="wait"/> + <see cref="ConduitClientOptions.PollTimeoutMargin"/>. Cancelling a waiting poll withdraws
    /// its wait on the cluster (<see cref="CancelPoll"/>); tasks handed out in the instant before the withdrawal arrives
    /// are leased to nobody and delivered again when their lease runs out.
    /// </summary>
    public async Task<IReadOnlyList<ConduitTask>> PollAsync(string queue, int maxTasks = 1, TimeSpan? wait = null, TimeSpan? lease = null,
        CancellationToken cancellationToken = default)
    {
        var waitFor = wait ?? DefaultPollWait;
        var pollId = Random.Shared.NextInt64(1, long.MaxValue);
        var request = new Poll(queue, maxTasks, (long)waitFor.TotalMilliseconds, lease is { } l ? (long)l.TotalMilliseconds : 0, pollId, Namespace, Options.WorkerName is { Length: > 0 } worker ? worker : null);
        await using var withdraw = cancellationToken.Register(() => Tell(FrontendPath, new CancelPoll(queue, pollId, Namespace)));
        var polled = await RequestAsync<Polled>(request, waitFor + Options.PollTimeoutMargin, cancellationToken).ConfigureAwait(false);
        return polled.Tasks.Select(t => new ConduitTask(queue, t)).ToArray();
    }

    /// <summary>Extends the lease; the answer says whether the task was cancelled meanwhile (stop working on it then).</summary>
    /// <exception cref="UnknownLeaseException">The task is completed or cancelled, or the token is malformed.</exception>
    /// <exception cref="LeaseExpiredException">The lease ran out; the task was or will be delivered again.</exception>
    public Task<HeartbeatAck> HeartbeatAsync(string leaseToken, CancellationToken cancellationToken = default) =>
        RequestAsync<HeartbeatAck>(new Heartbeat(leaseToken), null, cancellationToken);

    /// <summary>
    /// Marks the task done; durable before it returns. Completions that happen at the same time (a worker running many
    /// handlers) share requests: see <see cref="CompletionBatcher"/>.
    /// </summary>
    /// <exception cref="UnknownLeaseException">The task is already completed or cancelled, or the token is malformed.</exception>
    /// <exception cref="LeaseExpiredException">The lease ran out; the task was or will be delivered again.</exception>
    public Task<Completed> CompleteAsync(string leaseToken, CancellationToken cancellationToken = default) =>
        CompleteAsync(leaseToken, output: null, cancellationToken);

    /// <summary>
    /// Marks the task done with a result (<paramref name="output"/>, at most <see cref="Complete.MaxOutputBytes"/>), kept
    /// in the task history for the node's retention and returned by <see cref="GetTaskAsync"/> (docs/results.md).
    /// </summary>
    /// <exception cref="ConduitException">The result is too large (InvalidArgument), or as <see cref="CompleteAsync(string, CancellationToken)"/>.</exception>
    public async Task<Completed> CompleteAsync(string leaseToken, byte[]? output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(leaseToken);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        // Refused here, not sent: a request near the frame size would be dropped on the way and never answered.
        if (output is { Length: > Complete.MaxOutputBytes })
            throw new ArgumentException($"the result is {output.Length} bytes; the limit is {Complete.MaxOutputBytes}", nameof(output));
        var refusal = await _completions.CompleteAsync(leaseToken, output).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (refusal is not null) throw ConduitException.From(refusal);
        return new Completed(LeaseToken.TryParse(leaseToken, out var token) ? token.Task.ToString() : leaseToken);
    }

    /// <summary>
    /// Reports a failed attempt: retried with backoff while attempts remain and <paramref name="retryable"/>, otherwise
    /// dead-lettered. The answer says which (<see cref="Failed.Next"/>).
    /// </summary>
    public Task<Failed> FailAsync(string leaseToken, string reason, bool retryable = true, CancellationToken cancellationToken = default) =>
        FailAsync(leaseToken, reason, retryable, retryAfter: null, cancellationToken);

    /// <summary>
    /// Reports a failed attempt, as <see cref="FailAsync(string, string, bool, CancellationToken)"/>; a retry is due
    /// <paramref name="retryAfter"/> from now instead of after the queue's backoff (null: the backoff; at most 7 days).
    /// </summary>
    public Task<Failed> FailAsync(string leaseToken, string reason, bool retryable, TimeSpan? retryAfter, CancellationToken cancellationToken = default) =>
        RequestAsync<Failed>(new Fail(leaseToken, reason, retryable, retryAfter is { } delay ? Math.Clamp((long)delay.TotalMilliseconds, 1, Fail.MaxRetryDelayMs) : 0), null,
            cancellationToken);

    /// <summary>
    /// Gives leased tasks back undelivered: they are ready again at once and the attempt is not used up (a worker that
    /// polled more than it will run, or is stopping). One request per partition the tokens name (per 1000 tokens,
    /// <see cref="WireLimits.MaxIdsPerRequest"/>). Returns how many were
    /// released; a token whose lease is already gone (completed, expired, cancelled) is skipped.
    /// </summary>
    public async Task<int> ReleaseAsync(IEnumerable<string> leaseTokens, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(leaseTokens);
        var byPartition = leaseTokens.GroupBy(t => LeaseToken.TryParse(t, out var token) ? token.Task.Partition.EntityId : "", StringComparer.Ordinal);
        var released = 0;
        foreach (var group in byPartition)
        {
            if (group.Key.Length == 0) continue; // malformed: nothing on the cluster holds it
            foreach (var chunk in group.Chunk(WireLimits.MaxIdsPerRequest))
                released += (await RequestAsync<Released>(new ReleaseTasks(chunk), null, cancellationToken).ConfigureAwait(false)).Count;
        }
        return released;
    }

    /// <summary>Cancels a task: a waiting one never runs; a running one's worker learns it from its next heartbeat.</summary>
    public Task<Cancelled> CancelAsync(string taskId, CancellationToken cancellationToken = default) =>
        RequestAsync<Cancelled>(new CancelTask(taskId), null, cancellationToken);

    /// <summary>Where a task is in its life.</summary>
    /// <exception cref="TaskNotFoundException">No such task.</exception>
    public Task<TaskInfo> GetTaskAsync(string taskId, CancellationToken cancellationToken = default) =>
        RequestAsync<TaskInfo>(new GetTask(taskId), null, cancellationToken);

    /// <summary>Counts of a queue over all its partitions.</summary>
    public Task<QueueStats> GetQueueStatsAsync(string queue, CancellationToken cancellationToken = default) =>
        RequestAsync<QueueStats>(new GetQueueStats(queue, Namespace), null, cancellationToken);

    /// <summary>Stops dispatching from the queue (enqueues are still accepted).</summary>
    public Task<QueueStateChanged> PauseAsync(string queue, CancellationToken cancellationToken = default) =>
        RequestAsync<QueueStateChanged>(new PauseQueue(queue, Namespace), null, cancellationToken);

    /// <summary>Dispatches from the queue again.</summary>
    public Task<QueueStateChanged> ResumeAsync(string queue, CancellationToken cancellationToken = default) =>
        RequestAsync<QueueStateChanged>(new ResumeQueue(queue, Namespace), null, cancellationToken);

    /// <summary>
    /// Replaces the queue's dispatch limits (docs/limits.md): at most <see cref="QueueLimits.RatePerSecond"/> tasks handed
    /// out a second and <see cref="QueueLimits.MaxRunning"/> leased at once, over all its partitions. <see cref="QueueLimits.None"/>
    /// lifts them. Operators only.
    /// </summary>
    /// <exception cref="InvalidArgumentException">Invalid limits (for example a running limit below the queue's partition count).</exception>
    public Task<QueueLimitsChanged> SetQueueLimitsAsync(string queue, QueueLimits limits, CancellationToken cancellationToken = default) =>
        RequestAsync<QueueLimitsChanged>(new SetQueueLimits(queue, limits, Namespace), null, cancellationToken);

    /// <summary>Drops the queue's ready, delayed and dead-lettered tasks (running ones finish); returns how many were dropped.</summary>
    public async Task<long> PurgeAsync(string queue, CancellationToken cancellationToken = default) =>
        (await RequestAsync<QueuePurged>(new PurgeQueue(queue, Namespace), null, cancellationToken).ConfigureAwait(false)).Purged;

    /// <summary>Up to <paramref name="limit"/> dead letters of the queue, oldest failure first: the first page of <see cref="ListDeadLettersPageAsync"/>.</summary>
    public async Task<IReadOnlyList<DeadLetter>> ListDeadLettersAsync(string queue, int limit = 100, CancellationToken cancellationToken = default) =>
        (await ListDeadLettersPageAsync(queue, limit, null, cancellationToken).ConfigureAwait(false)).Items;

    /// <summary>
    /// One page of dead letters, oldest first: at most <paramref name="limit"/> and at most what fits in one reply, starting
    /// after <paramref name="after"/> (the last item of the previous page; null for the first). <c>More</c> says whether
    /// another page follows.
    /// </summary>
    public Task<DeadLetters> ListDeadLettersPageAsync(string queue, int limit = 100, DeadLetter? after = null, CancellationToken cancellationToken = default) =>
        RequestAsync<DeadLetters>(new ListDeadLetters(queue, limit, after?.FailedAtUnixMs ?? 0, after?.TaskId, Namespace), null, cancellationToken);

    /// <summary>
    /// One page of the queue's tasks in <paramref name="state"/> (docs/results.md): at most <paramref name="limit"/>
    /// (1..1,000) and at most what fits in one reply, starting after <paramref name="after"/> (the <c>Next</c> of the page
    /// before; null for the first). Scheduled, Ready, Running, Failed and DeadLettered tasks come in task id order from
    /// the partitions; Completed and Cancelled ones newest first from the task history. Operators only.
    /// </summary>
    /// <exception cref="HistoryOffException">Completed or Cancelled asked of a cluster that keeps no task history.</exception>
    /// <exception cref="InvalidArgumentException">A limit out of range, or a cursor that is not a <c>Next</c> of this listing.</exception>
    public Task<TaskList> ListTasksAsync(string queue, TaskStatus state, int limit = 100, string? after = null, CancellationToken cancellationToken = default) =>
        RequestAsync<TaskList>(new ListTasks(queue, state, limit, after, Namespace), null, cancellationToken);

    /// <summary>Puts dead letters back on the queue with fresh attempts: those in <paramref name="taskIds"/>, or all when null. Returns how many.</summary>
    public async Task<long> RequeueDeadLettersAsync(string queue, IEnumerable<string>? taskIds = null, CancellationToken cancellationToken = default) =>
        (await RequestAsync<DeadLettersRequeued>(new RequeueDeadLetters(queue, taskIds?.ToArray(), Namespace), null, cancellationToken).ConfigureAwait(false)).Count;
}
