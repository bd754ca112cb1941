using System.Diagnostics.CodeAnalysis;

namespace Conduit.Server.History;

/// <summary>What <see cref="ReadQueue{TRead}.Admit"/> decided about a read.</summary>
internal enum ReadAdmission
{
    /// <summary>Start it now: it counts as running until <see cref="ReadQueue{TRead}.Finish"/>.</summary>
    Start,
    /// <summary>It waits its turn behind the running reads.</summary>
    Wait,
    /// <summary>Too much waits already: refuse it (Overloaded).</summary>
    Refuse,
}

/// <summary>
/// Reads of the task history (a task's details) the history writer runs: at most <c>maxRunning</c> at once; more wait,
/// first come first started, while what they hold (their payload plus <see cref="OverheadBytes"/> each) stays within
/// <c>maxWaitingBytes</c>; past that they are refused.
/// </summary>
/// <typeparam name="TRead">The request a read answers (<see cref="TaskHistoryReader.IRead"/>).</typeparam>
internal sealed class ReadQueue<TRead>(int maxRunning, long maxWaitingBytes)
{
    /// <summary>What a waiting read is counted for beyond its payload (the request it carries).</summary>
    public const long OverheadBytes = 1024;

    private readonly Queue<(TRead Read, long Bytes)> _waiting = new();

    /// <summary>Reads started and not finished.</summary>
    public int Running { get; private set; }

    /// <summary>Bytes the waiting reads are counted for.</summary>
    public long WaitingBytes { get; private set; }

    /// <summary>The waiting reads, in the order they came.</summary>
    public IEnumerable<TRead> Waiting => _waiting.Select(w => w.Read);

    public int WaitingCount => _waiting.Count;

    /// <summary>A read that came, carrying <paramref name="payloadBytes"/> of payload: started, queued or refused.</summary>
    public ReadAdmission Admit(TRead read, long payloadBytes)
    {
        if (Running < maxRunning)
        {
            Running++;
            return ReadAdmission.Start;
        }
        var bytes = payloadBytes + OverheadBytes;
        if (WaitingBytes + bytes > maxWaitingBytes) return ReadAdmission.Refuse;
        _waiting.Enqueue((read, bytes));
        WaitingBytes += bytes;
        return ReadAdmission.Wait;
    }

    /// <summary>A running read finished (answered, or failed); the read that waited longest, if any, is returned to start in its place.</summary>
    public bool Finish([MaybeNullWhen(false)] out TRead next)
    {
        Running = Math.Max(0, Running - 1);
        if (!_waiting.TryDequeue(out var waiting))
        {
            next = default;
            return false;
        }
        WaitingBytes -= waiting.Bytes;
        Running++;
        next = waiting.Read;
        return true;
    }
}
