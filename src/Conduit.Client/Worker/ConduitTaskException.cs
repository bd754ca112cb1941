namespace Conduit.Client.Worker;

/// <summary>
/// Thrown by a task handler to say how the task failed. With <see cref="Retryable"/> false the task is dead-lettered at
/// once, whatever attempts it has left (bad input that no retry can fix); with true (the default, and what any other
/// exception means) it is retried with the queue's backoff until its attempts run out. The message is the failure's
/// reason, as dead-letter lists show it.
/// </summary>
public sealed class ConduitTaskException(string message, bool retryable = true, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>Whether the task may be tried again. Defaults to true.</summary>
    public bool Retryable { get; } = retryable;
}
