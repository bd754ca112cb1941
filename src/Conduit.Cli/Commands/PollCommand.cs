using System.CommandLine;
using System.Globalization;
using System.Text;
using Conduit.Cli.Output;

namespace Conduit.Cli.Commands;

/// <summary><c>poll QUEUE [--max N] [--wait 5s] [--lease 30s] [--complete]</c>: lease tasks like a worker would, and show them.</summary>
public static class PollCommand
{
    public static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(5);
    /// <summary>At most 25 tasks per poll, so the answer fits a remoting frame (8 MiB) even when every payload is the maximum 256 KiB.</summary>
    public const int MaxTasks = 25;
    private const int PayloadPreview = 60;

    /// <summary>The worker name a poll from the CLI gives: <c>conduit@{machine}</c> (null if the machine name is not printable ASCII).</summary>
    public static readonly string? DefaultWorker = WorkerName.IsValid($"conduit@{Environment.MachineName}") ? $"conduit@{Environment.MachineName}" : null;

    public static Command Build()
    {
        var queue = Arguments.Queue();
        var max = Arguments.Int("--max", "lease at most N tasks", 1, 1, MaxTasks, "tasks to lease at once");
        var wait = GlobalOptions.DurationOption("--wait", $"wait this long for a task (default {Durations.Format(DefaultWait)})");
        var lease = GlobalOptions.DurationOption("--lease", "keep the tasks leased this long before they are delivered again (default: the queue's, 30s)");
        var complete = new Option<bool>("--complete") { Description = "complete each task at once (drain without a worker)" };
        var worker = new Option<string>("--worker")
        {
            Description = $"the worker name kept with the deliveries (default {DefaultWorker ?? "none"}; \"\" for none)",
            DefaultValueFactory = _ => DefaultWorker!,
        };
        worker.Validators.Add(r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : null;
            if (text is { Length: > 0 } && !WorkerName.IsValid(text)) r.AddError(WorkerName.Describe(text));
        });
        var command = new Command("poll", "lease tasks from a queue and print them with their lease tokens") { queue, max, wait, lease, complete, worker };
        return command.Runs(async (ctx, parse) =>
        {
            var q = parse.GetValue(queue)!;
            var waitFor = parse.GetValue(wait) ?? DefaultWait;
            var polled = await ctx.Queue<Polled>(new Poll(q, parse.GetValue(max), (long)waitFor.TotalMilliseconds,
                (long)(parse.GetValue(lease) ?? TimeSpan.Zero).TotalMilliseconds, Namespace: ctx.Settings.Namespace, Worker: parse.GetValue(worker) is { Length: > 0 } name ? name : null),
                extraWait: waitFor);
            var completed = new bool[polled.Tasks.Length];
            if (parse.GetValue(complete))
            {
                for (var i = 0; i < polled.Tasks.Length; i++)
                {
                    await ctx.Queue<Completed>(new Protocol.Complete(polled.Tasks[i].LeaseToken));
                    completed[i] = true;
                }
            }
            var tasks = polled.Tasks.Select((t, i) => new
            {
                t.TaskId,
                t.LeaseToken,
                Payload = Text(t.Payload),
                PayloadBase64 = Convert.ToBase64String(t.Payload),
                t.Headers,
                t.Priority,
                t.Attempt,
                t.MaxAttempts,
                t.EnqueuedAtUnixMs,
                t.LeaseExpiresAtUnixMs,
                Completed = completed[i],
            }).ToArray();
            ctx.Output.Result(new { @namespace = ctx.Settings.Namespace, queue = q, tasks }, () =>
            {
                if (tasks.Length == 0)
                {
                    ctx.Output.Line($"no task in {q} within {Durations.Format(waitFor)}");
                    return;
                }
                var table = new TableWriter("TASK", "ATTEMPT", "PRIORITY", "STATE", "LEASE", "PAYLOAD").AlignRight(1, 2);
                foreach (var t in tasks)
                {
                    table.Add(t.TaskId, $"{t.Attempt}/{t.MaxAttempts}", t.Priority.ToString(CultureInfo.InvariantCulture),
                        new TableWriter.Cell(t.Completed ? "completed" : "leased", t.Completed ? Ansi.Green : null),
                        t.Completed ? "-" : t.LeaseToken, Preview(t.Payload));
                }
                table.WriteTo(ctx.Output);
            });
        });
    }

    /// <summary>The payload as text when it is UTF-8 (invalid bytes show as U+FFFD; the JSON has the exact bytes in base64).</summary>
    internal static string Text(byte[] payload) => Encoding.UTF8.GetString(payload);

    internal static string Preview(string text)
    {
        var oneLine = text.ReplaceLineEndings(" ");
        return oneLine.Length <= PayloadPreview ? oneLine : oneLine[..(PayloadPreview - 1)] + "…";
    }
}
