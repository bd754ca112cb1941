using Akka.Event;
using Conduit.Server.Frontend;

namespace Conduit.Server.Management;

/// <summary>
/// The audit lines of operator queue requests, the same whichever way they came in (an <see cref="OperatorRequest"/> to
/// the management actor, or the request itself to the frontend gateway): purges and dead-letter requeues at warning
/// level, pauses, resumes and cancellations at info level, with who asked (the authenticated identity and the peer's
/// address, set by the gateway) and the queue as <c>ns/queue</c>, everything escaped.
/// </summary>
internal static class OperatorAudit
{
    public static void Log(ILoggingAdapter log, Requester? by, IPartitionRequest request)
    {
        var who = SafeText.Escape(by?.ToString(), 300);
        switch (request)
        {
            case PurgeQueue purge:
                log.Warning("Operator {0} purged queue {1}", who, QueueText(purge));
                break;
            case RequeueDeadLetters requeue:
                log.Warning("Operator {0} requeued {1} dead letters of queue {2}", who,
                    requeue.TaskIds is null ? "all" : requeue.TaskIds.Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    QueueText(requeue));
                break;
            case PauseQueue pause:
                log.Info("Operator {0} paused queue {1}", who, QueueText(pause));
                break;
            case ResumeQueue resume:
                log.Info("Operator {0} resumed queue {1}", who, QueueText(resume));
                break;
            case CancelTask cancel:
                log.Info("Operator {0} cancelled task {1}", who, SafeText.Escape(cancel.TaskId, TaskId.MaxTextLength));
                break;
        }
    }

    /// <summary>Whether <paramref name="request"/> is one <see cref="Log"/> writes a line for.</summary>
    public static bool IsAudited(IPartitionRequest request) =>
        request is PurgeQueue or RequeueDeadLetters or PauseQueue or ResumeQueue or CancelTask;

    /// <summary><c>ns/queue</c> of a queue request, escaped for a log line.</summary>
    private static string QueueText(IPartitionRequest request)
    {
        var (ns, queue) = QueueFrontend.QueueOf(request);
        return $"{SafeText.Escape(ns, 140)}/{SafeText.Escape(queue, 140)}";
    }
}
