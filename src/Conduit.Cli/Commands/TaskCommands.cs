using System.CommandLine;
using System.Globalization;
using Conduit.Cli.Output;

namespace Conduit.Cli.Commands;

/// <summary><c>task get | cancel</c>, <c>tasks list</c>, <c>complete LEASE</c>, <c>fail LEASE</c>.</summary>
public static class TaskCommands
{
    public const string DefaultFailReason = "failed by an operator with `conduit fail`";

    public static Command Task()
    {
        var getId = Arguments.TaskId();
        var get = new Command("get", "a task's status, attempts, run-at time, last error, and from the task history its payload, result and every attempt") { getId };
        get.Runs(async (ctx, parse) =>
        {
            var info = await ctx.Queue<TaskInfo>(new GetTask(parse.GetValue(getId)!));
            ctx.Output.Result(info, () =>
            {
                var table = new TableWriter("FIELD", "VALUE");
                table.Add("id", info.TaskId);
                table.Add("namespace", info.Namespace);
                table.Add("queue", info.Queue);
                table.Add("status", new TableWriter.Cell(info.Status.ToString(), StatusColour(info.Status)));
                table.Add("priority", info.Priority.ToString(CultureInfo.InvariantCulture));
                table.Add("attempt", info.MaxAttempts > 0 ? $"{info.Attempt}/{info.MaxAttempts}" : info.Attempt.ToString(CultureInfo.InvariantCulture));
                table.Add("run at", QueueCommands.Time(info.RunAtUnixMs));
                table.Add("last error", info.LastError ?? "-");
                // From the task history (docs/results.md): absent when the node keeps none or has trimmed it.
                var details = info.Details;
                table.Add("enqueued", details is { EnqueuedAtUnixMs: > 0 } ? QueueCommands.Time(details.EnqueuedAtUnixMs) : "-");
                table.Add("finished", details is { FinishedAtUnixMs: > 0 } ? QueueCommands.Time(details.FinishedAtUnixMs) : "-");
                table.Add("payload", details?.Payload is { } payload ? PollCommand.Preview(PollCommand.Text(payload)) : "-");
                table.Add("result", details?.Output is { } output ? PollCommand.Preview(PollCommand.Text(output)) : "-");
                table.WriteTo(ctx.Output);
                if (details is not { Attempts.Length: > 0 }) return;
                ctx.Output.Line("");
                var attempts = new TableWriter("ATTEMPT", "STARTED", "ENDED", "OUTCOME", "WORKER", "REASON");
                foreach (var a in details.Attempts)
                    attempts.Add(a.Attempt.ToString(CultureInfo.InvariantCulture), a.StartedAtUnixMs > 0 ? QueueCommands.Time(a.StartedAtUnixMs) : "-",
                        a.EndedAtUnixMs > 0 ? QueueCommands.Time(a.EndedAtUnixMs) : "-", a.Outcome.ToString(), a.Worker ?? "-",
                        a.Reason is { } reason ? PollCommand.Preview(reason) : "-");
                attempts.WriteTo(ctx.Output);
            });
        });

        var cancelId = Arguments.TaskId();
        var cancel = new Command("cancel", "cancel a task; a running task's worker learns it from its next heartbeat") { cancelId };
        cancel.Runs(async (ctx, parse) =>
        {
            var cancelled = await ctx.Queue<Cancelled>(new CancelTask(parse.GetValue(cancelId)!));
            ctx.Output.Result(cancelled, () => ctx.Output.Line($"cancelled {cancelled.TaskId}"));
        });
        return new Command("task", "one task") { get, cancel };
    }

    /// <summary>The states <c>tasks list --state</c> takes, by the name a user types.</summary>
    internal static readonly IReadOnlyDictionary<string, TaskStatus> States = new Dictionary<string, TaskStatus>(StringComparer.OrdinalIgnoreCase)
    {
        ["scheduled"] = TaskStatus.Scheduled,
        ["ready"] = TaskStatus.Ready,
        ["running"] = TaskStatus.Running,
        ["failed"] = TaskStatus.Failed,
        ["dead"] = TaskStatus.DeadLettered,
        ["completed"] = TaskStatus.Completed,
        ["cancelled"] = TaskStatus.Cancelled,
    };

    public static Command Tasks()
    {
        var queue = Arguments.Queue();
        var state = new Option<TaskStatus>("--state")
        {
            Description = $"which tasks: {string.Join(", ", States.Keys)} (completed and cancelled from the task history)",
            Required = true,
            CustomParser = r =>
            {
                var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
                if (States.TryGetValue(text, out var s)) return s;
                r.AddError($"'{text}' is not a state: use one of {string.Join(", ", States.Keys)}");
                return default;
            },
        };
        var limit = Arguments.Int("--limit", "list at most this many", 100, 1, 10_000, "how many tasks to list");
        var after = new Option<string>("--after") { Description = "start after this cursor (the `next` a listing printed)" };
        var list = new Command("list", "a queue's tasks in one state: task id order for live states, newest first for completed and cancelled")
            { queue, state, limit, after };
        list.Runs(async (ctx, parse) =>
        {
            var q = parse.GetValue(queue)!;
            var wanted = parse.GetValue(limit);
            var request = new ListTasks(q, parse.GetValue(state), Math.Min(wanted, ListTasks.MaxLimit), parse.GetValue(after), ctx.Settings.Namespace);
            // A reply holds at most 1,000 tasks and 4 MiB: page with the cursor until the limit is reached or nothing more follows.
            var items = new List<TaskSummary>();
            TaskList page;
            do
            {
                page = await ctx.Queue<TaskList>(request with { Limit = Math.Min(ListTasks.MaxLimit, wanted - items.Count) });
                items.AddRange(page.Items);
                request = request with { After = page.Next };
            } while (page.Next is not null && items.Count < wanted);
            var result = page with { Items = items.ToArray() };
            ctx.Output.Result(result, () =>
            {
                var at = result.State switch
                {
                    TaskStatus.Scheduled => "DUE AT",
                    TaskStatus.Failed => "RETRY AT",
                    TaskStatus.Ready => "ENQUEUED",
                    TaskStatus.Running => "STARTED",
                    TaskStatus.DeadLettered => "FAILED AT",
                    _ => "FINISHED",
                };
                var table = new TableWriter("TASK", "PRIORITY", "ATTEMPT", at, "WORKER", "REASON").AlignRight(1, 2);
                foreach (var t in result.Items)
                    table.Add(t.TaskId, t.Priority.ToString(CultureInfo.InvariantCulture), t.Attempt.ToString(CultureInfo.InvariantCulture),
                        t.AtUnixMs > 0 ? QueueCommands.Time(t.AtUnixMs) : "-", t.Worker ?? "-", t.Reason is { } reason ? PollCommand.Preview(reason) : "-");
                table.WriteTo(ctx.Output);
                if (result.Items.Length == 0) ctx.Output.Note($"no {result.State} tasks in {q}");
                if (result.Next is { } next) ctx.Output.Note($"{result.Items.Length} shown; more follow: --after '{next}'");
            });
        });
        return new Command("tasks", "a queue's tasks by state") { list };
    }

    public static Command Complete()
    {
        var lease = Arguments.Lease();
        var result = new Option<string>("--result") { Description = "the task's result (UTF-8 text, at most 64 KiB), kept in the task history" };
        var command = new Command("complete", "complete a leased task (from `conduit poll`)") { lease, result };
        return command.Runs(async (ctx, parse) =>
        {
            var output = parse.GetValue(result) is { } text ? System.Text.Encoding.UTF8.GetBytes(text) : null;
            if (output is { Length: > Protocol.Complete.MaxOutputBytes })
                throw new UsageException($"--result is {output.Length} bytes; the limit is {Protocol.Complete.MaxOutputBytes}");
            var completed = await ctx.Queue<Completed>(new Protocol.Complete(parse.GetValue(lease)!, Output: output));
            ctx.Output.Result(completed, () => ctx.Output.Line($"completed {completed.TaskId}"));
        });
    }

    public static Command Fail()
    {
        var lease = Arguments.Lease();
        var reason = new Option<string>("--reason") { Description = $"why (default \"{DefaultFailReason}\")", DefaultValueFactory = _ => DefaultFailReason };
        var retryAfter = GlobalOptions.DurationOption("--retry-after", "retry no earlier than this from now, instead of the queue's backoff (at most 7d)");
        var command = new Command("fail", "fail a leased task: it is retried with backoff, or dead-lettered after its last attempt") { lease, reason, retryAfter };
        return command.Runs(async (ctx, parse) =>
        {
            var delayMs = parse.GetValue(retryAfter) is { } after ? Math.Max(1, (long)after.TotalMilliseconds) : 0;
            var failed = await ctx.Queue<Failed>(new Protocol.Fail(parse.GetValue(lease)!, parse.GetValue(reason)!, RetryDelayMs: delayMs));
            ctx.Output.Result(failed, () => ctx.Output.Line(failed.Next == TaskStatus.DeadLettered
                ? $"failed {failed.TaskId}: no attempts left, dead-lettered (see `conduit dlq list`)"
                : $"failed {failed.TaskId}: retry at {QueueCommands.Time(failed.RetryAtUnixMs)}"));
        });
    }

    internal static string? StatusColour(TaskStatus status) => status switch
    {
        TaskStatus.Completed => Ansi.Green,
        TaskStatus.DeadLettered or TaskStatus.Failed => Ansi.Red,
        TaskStatus.Cancelled => Ansi.Dim,
        _ => null,
    };
}
