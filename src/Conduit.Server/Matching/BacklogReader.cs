using Akka.Actor;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using Conduit.Server.Persistence;

namespace Conduit.Server.Matching;

/// <summary>
/// Pages tasks in from the partition's journal (after Temporal's <c>taskReader</c>): reads ranges of events with
/// Akka.Persistence.Query, so the backlog can stay on disk while only a window lives in memory.
/// </summary>
internal sealed class BacklogReader(ActorSystem system, string persistenceId)
{
    /// <summary>Events closer than this are read with one query rather than two.</summary>
    private const long MaxGap = 32;

    /// <summary>The partition's persistence id (its writer uses the same string).</summary>
    public string PersistenceId => persistenceId;

    private readonly SqlReadJournal _journal =
        PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
    private readonly IMaterializer _materializer = system.Materializer();

    public async Task<JournalPage> ReadAsync(ReadRequest request)
    {
        var events = new List<(long, PartitionBatch)>();
        switch (request)
        {
            case ScanRequest scan:
                // Ask for a bounded range, never "from here to the end": the SQL query behind the stream fetches a
                // whole buffer of rows (max-buffer-size, 500) whatever Take says, and a backlog's events are large
                // (hundreds of tasks each), so an open range read megabytes to use a few events. Ranges grow only
                // while they come back empty (events deleted below the ack level).
                var start = scan.FromSeqNr;
                long span = Math.Max(1, scan.MaxEvents);
                for (var i = 0; events.Count == 0 && i < 8; i++, start += span, span *= 4)
                    await ReadRangeAsync(start, start + span - 1, scan.MaxEvents, events, null);
                if (events.Count == 0) await ReadRangeAsync(start, long.MaxValue, scan.MaxEvents, events, null);
                break;
            case FetchRequest fetch:
                var wanted = fetch.EventSeqNrs.ToHashSet();
                foreach (var (from, to) in Ranges(fetch.EventSeqNrs))
                    await ReadRangeAsync(from, to, (int)(to - from + 1), events, wanted);
                break;
        }
        return new JournalPage(request, events);
    }

    private async Task ReadRangeAsync(long from, long to, int max, List<(long, PartitionBatch)> into, HashSet<long>? only)
    {
        var envelopes = await _journal.CurrentEventsByPersistenceId(persistenceId, from, to)
            .Take(max)
            .RunWith(Sink.Seq<EventEnvelope>(), _materializer);
        foreach (var envelope in envelopes)
            if (envelope.Event is PartitionBatch batch && (only is null || only.Contains(envelope.SequenceNr)))
                into.Add((envelope.SequenceNr, batch));
    }

    private static IEnumerable<(long From, long To)> Ranges(long[] sorted)
    {
        if (sorted.Length == 0) yield break;
        long from = sorted[0], to = sorted[0];
        foreach (var s in sorted.Skip(1))
        {
            if (s - to <= MaxGap) { to = s; continue; }
            yield return (from, to);
            from = to = s;
        }
        yield return (from, to);
    }
}
