using System.Text;

namespace Conduit.Client;

/// <summary>Per-task options of an enqueue. Every property is optional.</summary>
public sealed record EnqueueOptions
{
    /// <summary>Free-form headers handed to the worker with the task. Defaults to none.</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    /// <summary>0 (lowest) to 9 (highest); higher priorities are dispatched first. Defaults to 5 (<see cref="TaskSpec.DefaultPriority"/>).</summary>
    public int Priority { get; init; } = TaskSpec.DefaultPriority;

    /// <summary>Run no earlier than this long from now. Ignored when <see cref="RunAt"/> is set. Defaults to none (run now).</summary>
    public TimeSpan? Delay { get; init; }

    /// <summary>Run no earlier than this time. Defaults to none (run now).</summary>
    public DateTimeOffset? RunAt { get; init; }

    /// <summary>A repeated key returns the original task id, flagged as duplicate, for 24 h. Defaults to none.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>Attempts before the task is dead-lettered. Defaults to null: the queue's default (10).</summary>
    public int? MaxAttempts { get; init; }

    /// <summary>
    /// Tasks of the queue with the same key run at most the queue's per-key limit at once (<c>conduit queue limits Q
    /// --max-running-per-key N</c>; docs/limits.md), e.g. one at a time per customer. Defaults to none.
    /// </summary>
    public string? ConcurrencyKey { get; init; }

    /// <summary>The wire form of a task with <paramref name="payload"/> and these options.</summary>
    public TaskSpec ToSpec(byte[] payload) => new(
        payload,
        Headers is null ? null : new Dictionary<string, string>(Headers),
        Priority,
        Delay is { } d ? (long)d.TotalMilliseconds : 0, // a negative delay is the node's to refuse (InvalidArgument), not to clamp
        RunAt?.ToUnixTimeMilliseconds(),
        IdempotencyKey,
        MaxAttempts ?? 0,
        ConcurrencyKey);

    public static TaskSpec Spec(byte[] payload, EnqueueOptions? options = null) => (options ?? Default).ToSpec(payload);

    public static TaskSpec Spec(string text, EnqueueOptions? options = null) => Spec(Encoding.UTF8.GetBytes(text), options);

    public static readonly EnqueueOptions Default = new();
}
