using Akka.Actor;

namespace Conduit.Server.Matching;

/// <summary>
/// The requesters of appends the partition has sent to its current writer and the writer has not yet reported answered.
/// A writer whose write fails answers everything it holds, then stops; appends still in its mailbox, or sent before the
/// partition learns of the failure, die with it. The writer counts the appends it has answered (in the order it got
/// them) and says so in every <see cref="TaskWriter.Persisted"/> and in <see cref="TaskWriter.Failed"/>; whatever lies
/// beyond that count gets <c>Unavailable</c> from the partition, so every request is answered.
/// </summary>
internal sealed class UnansweredAppends
{
    private readonly Queue<(long Ordinal, IActorRef ReplyTo)> _waiting = new();
    private long _sent;

    /// <summary>Appends sent to the current writer.</summary>
    public long Sent => _sent;
    /// <summary>Requesters waiting on an append the writer has not reported answered.</summary>
    public int Count => _waiting.Count;

    /// <summary>An append is on its way to the writer; <paramref name="replyTo"/> waits for its answer (null: nobody waits).</summary>
    public void Add(IActorRef? replyTo)
    {
        _sent++;
        if (replyTo is not null && !replyTo.IsNobody()) _waiting.Enqueue((_sent, replyTo));
    }

    /// <summary>The writer has answered its first <paramref name="answered"/> appends.</summary>
    public void Answered(long answered)
    {
        while (_waiting.TryPeek(out var head) && head.Ordinal <= answered) _waiting.Dequeue();
    }

    /// <summary>
    /// The writer is gone, having answered its first <paramref name="answered"/> appends (all it reported, when it could
    /// not say): the requesters of the rest, who will hear nothing from it. Starts over for the next writer.
    /// </summary>
    public List<IActorRef> Orphaned(long? answered)
    {
        if (answered is { } n) Answered(n);
        var orphans = _waiting.Select(w => w.ReplyTo).ToList();
        _waiting.Clear();
        _sent = 0;
        return orphans;
    }
}
