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

    private readonly object _gate = new();
    private readonly Dictionary<string, List<Pending>> _waiting = new(StringComparer.Ordinal);

    private sealed record Pending(string Token, TaskCompletionSource<Rejected?> Done);

    /// <summary>Completes after the task's completion is durable: null when it completed, otherwise the refusal.</summary>
    public Task<Rejected?> CompleteAsync(string leaseToken)
    {
        var lane = LeaseToken.TryParse(leaseToken, out var token) ? token.Task.Partition.EntityId : "";
        var pending = new Pending(leaseToken, new TaskCompletionSource<Rejected?>(TaskCreationOptions.RunContinuationsAsynchronously));
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
                batch = queue.Take(MaxBatch).ToList();
                queue.RemoveRange(0, batch.Count);
            }
            await SendAsync(batch).ConfigureAwait(false);
        }
    }

    private async Task SendAsync(List<Pending> batch)
    {
        try
        {
            var more = batch.Count > 1 ? batch.Skip(1).Select(p => p.Token).ToArray() : null;
            var reply = await send(new Complete(batch[0].Token, more)).ConfigureAwait(false);
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
