namespace Conduit.Client.Worker;

/// <summary>How one delivery of a task ended on this worker.</summary>
public enum TaskOutcome
{
    /// <summary>The handler returned and the task was completed.</summary>
    Completed,
    /// <summary>The handler threw and the failure was reported (the task is retried or dead-lettered).</summary>
    Failed,
    /// <summary>The task was cancelled while it ran; the handler's token was cancelled.</summary>
    Cancelled,
    /// <summary>The lease was lost (expired or unknown) while it ran; the task belongs to another delivery now.</summary>
    LeaseLost,
    /// <summary>The handler finished but completing or failing it did not get through (timeout, cluster unreachable).</summary>
    NotReported,
}
