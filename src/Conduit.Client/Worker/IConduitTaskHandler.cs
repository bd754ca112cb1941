namespace Conduit.Client.Worker;

/// <summary>
/// Handles one task. Return to complete it; throw to fail it (retried with backoff until its attempts run out, then
/// dead-lettered). <paramref name="cancellationToken"/> is cancelled when the task is cancelled, its lease is lost
/// (another worker may get it) or the worker's shutdown grace runs out: stop then.
/// Registered with <c>AddConduitWorker&lt;THandler&gt;</c>, a handler is resolved from a fresh DI scope per task.
/// </summary>
public interface IConduitTaskHandler
{
    Task HandleAsync(ConduitTask task, CancellationToken cancellationToken);
}
