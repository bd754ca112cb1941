using System.Text;

namespace Conduit.Client;

/// <summary>A task handed to this worker under a lease, as <see cref="ConduitClient.PollAsync"/> returns it.</summary>
public sealed class ConduitTask
{
    private static readonly IReadOnlyDictionary<string, string> NoHeaders = new Dictionary<string, string>();

    public ConduitTask(string queue, LeasedTask leased)
    {
        ArgumentNullException.ThrowIfNull(leased);
        Queue = queue;
        Id = leased.TaskId;
        LeaseToken = leased.LeaseToken;
        Payload = leased.Payload ?? [];
        Headers = leased.Headers ?? NoHeaders;
        Priority = leased.Priority;
        Attempt = leased.Attempt;
        MaxAttempts = leased.MaxAttempts;
        EnqueuedAt = DateTimeOffset.FromUnixTimeMilliseconds(leased.EnqueuedAtUnixMs);
        LeaseExpiresAt = DateTimeOffset.FromUnixTimeMilliseconds(leased.LeaseExpiresAtUnixMs);
    }

    /// <summary>The task id (<c>ns/queue#partition:seq</c>), stable across attempts.</summary>
    public string Id { get; }
    public string Queue { get; }
    /// <summary>The namespace of the task's queue, as its id names it (<c>default</c> unless the client's <see cref="ConduitClientOptions.Namespace"/> says otherwise).</summary>
    public string Namespace => TaskId.TryParse(Id, out var id) ? id.Partition.Namespace : PartitionId.DefaultNamespace;
    /// <summary>Names this delivery; heartbeat, complete and fail with it.</summary>
    public string LeaseToken { get; }
    public byte[] Payload { get; }
    /// <summary>The payload as UTF-8 text.</summary>
    public string PayloadText => Encoding.UTF8.GetString(Payload);
    public IReadOnlyDictionary<string, string> Headers { get; }
    public int Priority { get; }
    /// <summary>1 for the first delivery, 2 for the first retry, ...</summary>
    public int Attempt { get; }
    public int MaxAttempts { get; }
    public DateTimeOffset EnqueuedAt { get; }
    /// <summary>When the lease ran out as of the poll (heartbeats extend it).</summary>
    public DateTimeOffset LeaseExpiresAt { get; }

    /// <summary>
    /// The result a handler run by <see cref="Worker.ConduitWorker"/> sets: sent with the task's completion and kept in
    /// the task history, where <see cref="ConduitClient.GetTaskAsync"/> returns it (docs/results.md). At most
    /// <see cref="Complete.MaxOutputBytes"/> (64 KiB); null (the default) sends none.
    /// </summary>
    public byte[]? Result { get; set; }

    /// <summary>Sets <see cref="Result"/> to <paramref name="text"/> as UTF-8.</summary>
    public void SetResult(string text) => Result = Encoding.UTF8.GetBytes(text);

    public override string ToString() => $"{Id} (attempt {Attempt}/{MaxAttempts})";
}
