namespace Conduit.Protocol;

/// <summary>
/// How fast and how much of a queue may run (docs/limits.md): at most <see cref="RatePerSecond"/> tasks handed to
/// workers a second, in bursts of up to <see cref="Burst"/> (at least one second's worth of the rate), and at most
/// <see cref="MaxRunning"/> leased at once, and at most <see cref="MaxRunningPerKey"/> leased at once among the tasks
/// with the same <see cref="TaskSpec.ConcurrencyKey"/>. 0 means no limit. The limits hold for the whole queue: each
/// of its N partitions enforces 1/N of the rate and burst and its share of the running limit; the tasks of a key all
/// go to one partition, which enforces the per-key limit whole.
/// </summary>
[MemoryPackable]
public sealed partial record QueueLimits(double RatePerSecond = 0, int Burst = 0, int MaxRunning = 0, int MaxRunningPerKey = 0)
{
    /// <summary>No limits.</summary>
    public static readonly QueueLimits None = new();

    /// <summary>The largest rate that can be set, in tasks a second.</summary>
    public const double MaxRate = 1_000_000;
    /// <summary>The largest burst and running limit that can be set.</summary>
    public const int MaxCount = 1_000_000;

    [MemoryPackIgnore] public bool IsNone => RatePerSecond <= 0 && MaxRunning <= 0 && MaxRunningPerKey <= 0;

    /// <summary>The burst in force: as given, but never less than one second's worth of the rate (nor less than 1).</summary>
    [MemoryPackIgnore] public double EffectiveBurst => Math.Max(Burst, Math.Max(1, RatePerSecond));

    public override string ToString() =>
        IsNone ? "no limits"
            : string.Join(", ", new[]
            {
                RatePerSecond > 0 ? $"{RatePerSecond.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)}/s (burst {EffectiveBurst.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)})" : null,
                MaxRunning > 0 ? $"at most {MaxRunning} running" : null,
                MaxRunningPerKey > 0 ? $"at most {MaxRunningPerKey} running per concurrency key" : null,
            }.Where(s => s is not null));
}

/// <summary>The answer to <see cref="SetQueueLimits"/>: the limits now in force on every partition of the queue.</summary>
[MemoryPackable] public sealed partial record QueueLimitsChanged(string Queue, QueueLimits Limits, string Namespace = PartitionId.DefaultNamespace) : IConduitMessage;
