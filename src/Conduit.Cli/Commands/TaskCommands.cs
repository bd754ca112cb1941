using System.CommandLine;
using System.Globalization;
using Conduit.Cli.Output;

namespace Conduit.Cli.Commands;

/// <summary><c>task get | cancel</c>, <c>complete LEASE</c>, <c>fail LEASE</c>.</summary>
public static class TaskCommands
{
    public const string DefaultFailReason = "failed by an operator with `conduit fail`";

    public static Command Task()
    {
        var getId = Arguments.TaskId();
        var get = new Command("get", "a task's status, attempts, run-at time and last error") { getId };
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
                table.WriteTo(ctx.Output);
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

    public static Command Complete()
    {
        var lease = Arguments.Lease();
        var command = new Command("complete", "complete a leased task (from `conduit poll`)") { lease };
        return command.Runs(async (ctx, parse) =>
        {
            var completed = await ctx.Queue<Completed>(new Protocol.Complete(parse.GetValue(lease)!));
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
