namespace Conduit.Client.Worker;

/// <summary>
/// Thrown by a task handler to say how the task failed. With <see cref="Retryable"/> false the task is dead-lettered at
/// once, whatever attempts it has left (bad input that no retry can fix); with true (the default, and what any other
/// exception means) it is retried with the queue's backoff until its attempts run out. The message is the failure's
/// reason, as dead-letter lists show it. <see cref="RetryAfter"/> sets when the retry is due instead of the backoff
/// (an API that answered "retry after 30 s").
/// </summary>
public sealed class ConduitTaskException(string message, bool retryable = true, Exception? inner = null, TimeSpan? retryAfter = null)
    : Exception(message, inner)
{
    /// <summary>Whether the task may be tried again. Defaults to true.</summary>
    public bool Retryable { get; } = retryable;

    /// <summary>When the next attempt is due, from the failure (null: the queue's backoff; at most 7 days).</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}
