using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Conduit.Cli.Output;

namespace Conduit.Cli.Commands;

/// <summary>
/// <c>enqueue QUEUE [--payload TEXT | --file F | --count N] [--delay 30s] [--priority N] [--key K] [--max-attempts N] [--concurrency-key K]</c>.
/// With <c>--count</c>, tasks go in batches of up to <see cref="BatchSize"/> (and <see cref="MaxBatchBytes"/>),
/// <see cref="BatchesInFlight"/> at a time, with a progress bar on a terminal; batches in flight together may land in
/// either order, so numbered tasks are not strictly in number order.
/// </summary>
public static class EnqueueCommand
{
    /// <summary>Tasks per <see cref="EnqueueBatch"/> request: 500, one partition write batch.</summary>
    public const int BatchSize = 500;
    /// <summary>Batch requests outstanding at once: 4, enough to keep a partition's writer busy.</summary>
    public const int BatchesInFlight = 4;
    /// <summary>Payload bytes per batch request: 1 MiB, so a batch fits a remoting frame (8 MiB).</summary>
    public const int MaxBatchBytes = 1 << 20;
    public const int MaxCount = 10_000_000;

    public static Command Build()
    {
        var queue = Arguments.Queue();
        var payload = new Option<string>("--payload", "-p") { Description = "the payload, as UTF-8 text", HelpName = "text" };
        var file = new Option<FileInfo>("--file", "-f") { Description = "read the payload from a file", HelpName = "path" };
        var count = Arguments.Int("--count", "enqueue N tasks (payload: --payload/--file, or each task's number)", 1, 1, MaxCount, "how many tasks");
        var delay = GlobalOptions.DurationOption("--delay", "run no earlier than this from now (default 0s: at once)");
        var priority = Arguments.Int("--priority", "0-9, higher runs first", TaskSpec.DefaultPriority,
            TaskSpec.MinPriority, TaskSpec.MaxPriority, "higher runs first");
        var key = new Option<string>("--key", "-k") { Description = "idempotency key: a repeat returns the first task's id", HelpName = "key" };
        var maxAttempts = Arguments.Int("--max-attempts", "attempts before the task is dead-lettered (default: the queue's, 10)", null, 1, 1_000,
            "attempts before dead-lettering");
        var concurrencyKey = new Option<string>("--concurrency-key") { Description = "tasks with the same key run at most the queue's per-key limit at once", HelpName = "key" };
        var command = new Command("enqueue", "add tasks to a queue") { queue, payload, file, count, delay, priority, key, maxAttempts, concurrencyKey };
        return command.Runs(async (ctx, parse) =>
        {
            var n = parse.GetValue(count);
            byte[]? body = (parse.GetValue(payload), parse.GetValue(file)) switch
            {
                ({ }, { }) => throw new UsageException("give the payload once: --payload TEXT or --file PATH, not both"),
                ({ } text, null) => Encoding.UTF8.GetBytes(text),
                (null, { } f) when !f.Exists => throw new UsageException($"--file '{f.FullName}' does not exist"),
                (null, { } f) => await File.ReadAllBytesAsync(f.FullName, ctx.Cancellation),
                _ when n > 1 => null,
                _ => throw new UsageException("enqueue needs a payload: --payload TEXT or --file PATH (or --count N for numbered tasks)"),
            };
            if (parse.GetValue(key) is not null && n > 1)
                throw new UsageException("--key makes every task after the first a duplicate: drop --key, or --count");
            var spec = new TaskSpec(body ?? [], Priority: parse.GetValue(priority), DelayMs: (long)(parse.GetValue(delay) ?? TimeSpan.Zero).TotalMilliseconds,
                IdempotencyKey: parse.GetValue(key), MaxAttempts: parse.GetValue(maxAttempts), ConcurrencyKey: parse.GetValue(concurrencyKey));
            var q = parse.GetValue(queue)!;
            var watch = Stopwatch.StartNew();
            var results = n == 1
                ? [await ctx.Queue<Enqueued>(new Enqueue(q, spec, ctx.Settings.Namespace))]
                : await EnqueueMany(ctx, q, spec, numbered: body is null, n);
            var elapsed = watch.Elapsed;
            var duplicates = results.Count(r => r.Duplicate);
            ctx.Output.Result(new { @namespace = ctx.Settings.Namespace, queue = q, enqueued = results.Length, duplicates, taskIds = results.Select(r => r.TaskId) }, () =>
            {
                if (n == 1)
                    ctx.Output.Line(results[0].Duplicate
                        ? $"{results[0].TaskId} (duplicate: key '{spec.IdempotencyKey}' was enqueued before; nothing added)"
                        : $"enqueued {results[0].TaskId}");
                else
                    ctx.Output.Line(string.Create(CultureInfo.InvariantCulture,
                        $"enqueued {ClusterCommands.Number(n)} tasks to {q} in {Durations.Format(elapsed)} ({n / Math.Max(0.001, elapsed.TotalSeconds):N0}/s)"));
            });
        });
    }

    private static async Task<Enqueued[]> EnqueueMany(CliContext ctx, string queue, TaskSpec spec, bool numbered, int count)
    {
        var results = new Enqueued[count];
        using var progress = ProgressBar.StartIfTerminal(ctx.Output.Err, ctx.Output.ErrIsTerminal, $"enqueue {queue}", count);
        using var slots = new SemaphoreSlim(BatchesInFlight);
        var batches = new List<Task>();
        var perBatch = Math.Clamp(MaxBatchBytes / Math.Max(1, spec.Payload.Length), 1, BatchSize);
        for (var start = 0; start < count; start += perBatch)
        {
            var from = start;
            var size = Math.Min(perBatch, count - from);
            var tasks = new TaskSpec[size];
            for (var i = 0; i < size; i++)
                tasks[i] = numbered ? spec with { Payload = Encoding.UTF8.GetBytes((from + i + 1).ToString(CultureInfo.InvariantCulture)) } : spec;
            await slots.WaitAsync(ctx.Cancellation);
            batches.Add(Send());

            async Task Send()
            {
                try
                {
                    var batch = await ctx.Queue<EnqueuedBatch>(new EnqueueBatch(queue, tasks, ctx.Settings.Namespace));
                    batch.Results.CopyTo(results, from);
                    progress?.Advance(size);
                }
                finally
                {
                    slots.Release();
                }
            }

            if (batches.FirstOrDefault(b => b.IsFaulted) is { } failed) await failed; // stop at the first refusal
        }
        await Task.WhenAll(batches);
        return results;
    }
}
