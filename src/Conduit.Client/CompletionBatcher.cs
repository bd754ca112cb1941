namespace Conduit.Client;

/// <summary>
/// Turns concurrent completions into few requests: per partition, one <see cref="Complete"/> is in flight at a time,
/// and the completions that arrive meanwhile go out together in the next one (with <see cref="Complete.MoreLeaseTokens"/>),
/// which the partition makes durable in one write. An idle worker's completion goes out at once, so nothing waits
/// for a timer; a busy one sends one request per round trip instead of one per task.
/// </summary>
internal sealed class CompletionBatcher(Func<Complete, Task<object>> send)
{
    /// <summary>Most leases in one request.</summary>
    public const int MaxBatch = 500;

    /// <summary>Most bytes of results in one request (one result larger than this goes alone): well inside a frame.</summary>
    public const int MaxBatchOutputBytes = 1 << 20;

    private readonly object _gate = new();
    private readonly Dictionary<string, List<Pending>> _waiting = new(StringComparer.Ordinal);

    private sealed record Pending(string Token, byte[]? Output, TaskCompletionSource<Rejected?> Done);

    /// <summary>Completes after the task's completion is durable: null when it completed, otherwise the refusal.</summary>
    /// <param name="output">The task's result (null: none).</param>
    public Task<Rejected?> CompleteAsync(string leaseToken, byte[]? output = null)
    {
        var lane = LeaseToken.TryParse(leaseToken, out var token) ? token.Task.Partition.EntityId : "";
        var pending = new Pending(leaseToken, output, new TaskCompletionSource<Rejected?>(TaskCreationOptions.RunContinuationsAsynchronously));
        bool start;
        lock (_gate)
        {
            start = !_waiting.TryGetValue(lane, out var queue);
            if (start) _waiting[lane] = queue = [];
            queue!.Add(pending);
        }
        if (start) _ = DrainAsync(lane);
        return pending.Done.Task;
    }

    private async Task DrainAsync(string lane)
    {
        while (true)
        {
            List<Pending> batch;
            lock (_gate)
            {
                var queue = _waiting[lane];
                if (queue.Count == 0)
                {
                    _waiting.Remove(lane);
                    return;
                }
                batch = TakeBatch(queue);
            }
            await SendAsync(batch).ConfigureAwait(false);
        }
    }

    /// <summary>The next request's completions: at most <see cref="MaxBatch"/>, and results of at most <see cref="MaxBatchOutputBytes"/> (but at least one).</summary>
    private static List<Pending> TakeBatch(List<Pending> queue)
    {
        var count = 0;
        long bytes = 0;
        while (count < queue.Count && count < MaxBatch)
        {
            var size = queue[count].Output?.Length ?? 0;
            if (count > 0 && bytes + size > MaxBatchOutputBytes) break;
            bytes += size;
            count++;
        }
        var batch = queue.GetRange(0, count);
        queue.RemoveRange(0, count);
        return batch;
    }

    private async Task SendAsync(List<Pending> batch)
    {
        try
        {
            var more = batch.Count > 1 ? batch.Skip(1).Select(p => p.Token).ToArray() : null;
            var moreOutputs = batch.Skip(1).Any(p => p.Output is not null) ? batch.Skip(1).Select(p => p.Output).ToArray() : null;
            var reply = await send(new Complete(batch[0].Token, more, batch[0].Output, moreOutputs)).ConfigureAwait(false);
            switch (reply)
            {
                case Completed when batch.Count == 1:
                    batch[0].Done.TrySetResult(null);
                    break;
                case Rejected refused when batch.Count == 1:
                    batch[0].Done.TrySetResult(refused);
                    break;
                case CompletedBatch answers when answers.Refusals.Length == batch.Count:
                    for (var i = 0; i < batch.Count; i++) batch[i].Done.TrySetResult(answers.Refusals[i]);
                    break;
                case Rejected refused:
                    foreach (var p in batch) p.Done.TrySetResult(refused);
                    break;
                default:
                    var error = new ConduitProtocolException($"expected Completed or CompletedBatch, got {reply.GetType().Name}");
                    foreach (var p in batch) p.Done.TrySetException(error);
                    break;
            }
        }
        catch (Exception e)
        {
            foreach (var p in batch) p.Done.TrySetException(e);
        }
    }
}
