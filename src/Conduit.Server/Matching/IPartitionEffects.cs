using Conduit.Server.History;
using Conduit.Server.Persistence;

namespace Conduit.Server.Matching;

/// <summary>
/// What the pure <see cref="PartitionEngine"/> asks of the world. The <c>QueuePartition</c> actor carries these out
/// with its writer, reader and timers; unit tests record them.
/// </summary>
internal interface IPartitionEffects
{
    /// <summary>Answer now.</summary>
    void Reply(object replyTo, object message);

    /// <summary>
    /// Make <paramref name="entries"/> durable, then write <paramref name="history"/> (if any) to the task history, then
    /// send <paramref name="reply"/> (if any) to <paramref name="replyTo"/>, then report the event back with <see cref="PartitionEngine.OnPersisted"/>.
    /// </summary>
    void Append(BatchEntry[] entries, object? replyTo, object? reply, HistoryRecord[]? history = null);

    /// <summary>Whether the node keeps a task history (docs/results.md): the engine makes <see cref="HistoryRecord"/>s only then.</summary>
    bool KeepsHistory { get; }

    /// <summary>Tell the task history of <paramref name="records"/> (deliveries that started); nobody waits for them.</summary>
    void History(HistoryRecord[] records);

    /// <summary>Answer <paramref name="replyTo"/> with <paramref name="info"/>, its details completed from the task history when the node keeps one.</summary>
    void Describe(object replyTo, TaskInfo info);

    /// <summary>Answer <paramref name="replyTo"/> with a page of settled tasks (<see cref="ListTasks.IsSettled"/>) from the task history.</summary>
    void ListSettled(object replyTo, ListTasks list, TaskListCursor? cursor);

    /// <summary>Read journal events and report them back with <see cref="PartitionEngine.OnJournalPage"/>.</summary>
    void Read(ReadRequest request);

    /// <summary>Save <paramref name="snapshot"/> as of event <paramref name="seqNr"/>, then delete events up to <paramref name="deleteEventsUpTo"/>.</summary>
    void SaveSnapshot(PartitionSnapshot snapshot, long seqNr, long deleteEventsUpTo);

    /// <summary>Call <see cref="PartitionEngine.OnPollDeadline"/> with <paramref name="pollId"/> after <paramref name="delayMs"/>.</summary>
    void SchedulePollDeadline(long pollId, long delayMs);

    /// <summary>The poll was answered before its deadline: forget the deadline.</summary>
    void CancelPollDeadline(long pollId);
}

internal abstract record ReadRequest;

/// <summary>Read up to <paramref name="MaxEvents"/> events from <paramref name="FromSeqNr"/> on, looking for fresh tasks of <paramref name="Priority"/>.</summary>
internal sealed record ScanRequest(int Priority, long FromSeqNr, int MaxEvents) : ReadRequest;

/// <summary>
/// Read these events to get the payloads of due delayed or retried tasks, or (<paramref name="ForRelocation"/>) of
/// long-unsettled tasks to write anew, or (<paramref name="ForLookup"/>) to find out whether a task id a request names
/// is really a task there.
/// </summary>
internal sealed record FetchRequest(long[] EventSeqNrs, bool ForRelocation = false, bool ForLookup = false) : ReadRequest;

internal sealed record JournalPage(ReadRequest Request, IReadOnlyList<(long SeqNr, PartitionBatch Batch)> Events);
