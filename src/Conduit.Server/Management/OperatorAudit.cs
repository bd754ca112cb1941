using Akka.Event;
using Conduit.Server.Frontend;

namespace Conduit.Server.Management;

/// <summary>
/// The audit lines of operator queue requests, the same whichever way they came in (an <see cref="OperatorRequest"/> to
/// the management actor, or the request itself to the frontend gateway): purges and dead-letter requeues at warning
/// level, pauses, resumes and cancellations at info level, with who asked (the authenticated identity and the peer's
/// address, set by the gateway) and the queue as <c>ns/queue</c>, everything escaped. The requester, the action, the
/// namespace and queue (or the task id) are named template properties, so they are structured fields of the entry
/// (<see cref="Diagnostics.NodeLogger"/>).
/// </summary>
internal static class OperatorAudit
{
    public static void Log(ILoggingAdapter log, Requester? by, IPartitionRequest request)
    {
        var who = SafeText.Escape(by?.ToString(), 300);
        switch (request)
        {
            case PurgeQueue purge:
                log.Warning(QueueTemplate, who, "purged", Ns(purge), Queue(purge));
                break;
            case RequeueDeadLetters requeue:
                log.Warning("Operator {Requester} {Action} {Count} dead letters of queue {Namespace}/{Queue}", who, "requeued",
                    requeue.TaskIds is null ? "all" : requeue.TaskIds.Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    Ns(requeue), Queue(requeue));
                break;
            case PauseQueue pause:
                log.Info(QueueTemplate, who, "paused", Ns(pause), Queue(pause));
                break;
            case ResumeQueue resume:
                log.Info(QueueTemplate, who, "resumed", Ns(resume), Queue(resume));
                break;
            case SetQueueLimits limits:
                log.Info("Operator {Requester} {Action} queue {Namespace}/{Queue} to {Limits}", who, "limited", Ns(limits), Queue(limits),
                    limits.Limits?.ToString() ?? "nothing");
                break;
            case CancelTask cancel:
                // The task id as a field names its partition, queue and namespace (NodeLogger adds them) when it parses.
                log.Info("Operator {Requester} {Action} task {TaskId}", who, "cancelled",
                    TaskId.TryParse(cancel.TaskId, out var id) ? id : (object)SafeText.Escape(cancel.TaskId, TaskId.MaxTextLength));
                break;
        }
    }

    /// <summary>Whether <paramref name="request"/> is one <see cref="Log"/> writes a line for.</summary>
    public static bool IsAudited(IPartitionRequest request) =>
        request is PurgeQueue or RequeueDeadLetters or PauseQueue or ResumeQueue or CancelTask or SetQueueLimits;

    /// <summary>An action on a whole queue; the requester, the action, the namespace and the queue are structured fields.</summary>
    private const string QueueTemplate = "Operator {Requester} {Action} queue {Namespace}/{Queue}";

    /// <summary>The namespace of a queue request, escaped for a log line.</summary>
    private static string Ns(IPartitionRequest request) => SafeText.Escape(QueueFrontend.QueueOf(request).Namespace, 140);

    /// <summary>The queue of a queue request, escaped for a log line.</summary>
    private static string Queue(IPartitionRequest request) => SafeText.Escape(QueueFrontend.QueueOf(request).Queue, 140);
}
