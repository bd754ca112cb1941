using System.CommandLine;
using System.Text;
using Conduit.Cli.Output;
using static Conduit.Cli.Commands.ClusterCommands;

namespace Conduit.Cli.Commands;

/// <summary><c>schedule add | list | get | pause | resume | delete | trigger</c>: recurring tasks (docs/schedules.md).</summary>
public static class ScheduleCommands
{
    public static Command Schedule()
    {
        var list = new Command("list", "the namespace's schedules: when they run, the next due time, runs and skips");
        list.Runs(async (ctx, _) =>
        {
            var schedules = await ctx.Node<ScheduleList>(new ListSchedules(ctx.Settings.Namespace));
            ctx.Output.Result(schedules, () =>
            {
                Table(ctx.Output, schedules.Schedules);
                if (schedules.Schedules.Length == 0) ctx.Output.Note("no schedules: add one with `conduit schedule add NAME --queue Q --every 1h` (or --cron)");
                if (schedules.More) ctx.Output.Note($"only the first {ScheduleList.MaxSchedules} schedules by name are listed");
                Unanswered(ctx.Output, schedules.Unanswered);
            });
        });
        return new Command("schedule", "recurring tasks: a cron expression or an interval enqueues a task template onto a queue")
        {
            Add(),
            list,
            Action("get", "one schedule: its spec, next due times, last run", n => new GetSchedule(n), Show),
            Action("pause", "no runs until resumed (due times while paused are not run)", n => new PauseSchedule(n), Show),
            Action("resume", "run again from the next due time", n => new ResumeSchedule(n), Show),
            Action("delete", "delete the schedule (tasks it enqueued stay)", n => new DeleteSchedule(n),
                (ctx, reply) => ctx.Output.Result(reply, () => ctx.Output.Line($"schedule {((ScheduleDeleted)reply).Name} deleted"))),
            Action("trigger", "enqueue the schedule's task once now (also when paused)", n => new TriggerSchedule(n),
                (ctx, reply) => ctx.Output.Result(reply, () => ctx.Output.Line($"enqueued {((ScheduleTriggered)reply).TaskId}"))),
        };
    }

    private static Argument<string> Name() => new("name") { Description = "the schedule's name (a-z, 0-9, '.', '_', '-')" };

    private static Command Action(string verb, string description, Func<string, IScheduleRequest> request, Action<CliContext, object> show)
    {
        var name = Name();
        var command = new Command(verb, description) { name };
        return command.Runs(async (ctx, parse) =>
        {
            var made = request(parse.GetValue(name)!) switch
            {
                GetSchedule r => (IScheduleRequest)(r with { Namespace = ctx.Settings.Namespace }),
                PauseSchedule r => r with { Namespace = ctx.Settings.Namespace, By = ctx.Settings.Requester },
                ResumeSchedule r => r with { Namespace = ctx.Settings.Namespace, By = ctx.Settings.Requester },
                DeleteSchedule r => r with { Namespace = ctx.Settings.Namespace, By = ctx.Settings.Requester },
                TriggerSchedule r => r with { Namespace = ctx.Settings.Namespace, By = ctx.Settings.Requester },
                var other => other,
            };
            // A refusal (no such schedule, …) is printed as the CLI prints refusals.
            var reply = await ctx.Node<object>(made);
            show(ctx, reply is Rejected refused ? throw new RefusedException(refused) : reply);
        });
    }

    private static Command Add()
    {
        var name = Name();
        var queue = new Option<string>("--queue", "-q") { Description = "the queue the task goes to", Required = true, HelpName = "queue" };
        var cron = new Option<string>("--cron") { Description = "cron expression: 5 fields, or 6 with seconds first (e.g. \"0 9 * * MON-FRI\")", HelpName = "expr" };
        var zone = new Option<string>("--tz") { Description = "time zone of --cron (IANA id, e.g. Europe/Berlin; default UTC)", HelpName = "zone" };
        var every = GlobalOptions.DurationOption("--every", "run at this interval (at least 1s), from --start or from now");
        var payload = new Option<string>("--payload", "-p") { Description = "the task's payload, as UTF-8 text", HelpName = "text" };
        var file = new Option<FileInfo>("--file", "-f") { Description = "read the payload from a file", HelpName = "path" };
        var priority = Arguments.Int("--priority", "0-9, higher runs first", TaskSpec.DefaultPriority, TaskSpec.MinPriority, TaskSpec.MaxPriority, "higher runs first");
        var maxAttempts = Arguments.Int("--max-attempts", "attempts before a run's task is dead-lettered (default: the queue's)", null, 1, 1_000, "attempts");
        var jitter = GlobalOptions.DurationOption("--jitter", "enqueue each run up to this much after its due time (default 0s)");
        var overlap = new Option<OverlapPolicy>("--overlap") { Description = "when the previous run's task is not finished: allow (default) or skip", DefaultValueFactory = _ => OverlapPolicy.Allow };
        var missed = new Option<string>("--missed") { Description = "due times missed while the cluster was down: run-once (default) or skip", DefaultValueFactory = _ => "run-once", HelpName = "policy" };
        var missedAfter = GlobalOptions.DurationOption("--missed-after", "a due time this late counts as missed (default 60s)");
        var start = new Option<DateTimeOffset?>("--start") { Description = "no due time before this (ISO 8601, e.g. 2026-12-24T18:00:00Z)", HelpName = "time" };
        var end = new Option<DateTimeOffset?>("--end") { Description = "no due time after this (ISO 8601)", HelpName = "time" };
        var command = new Command("add", "create a schedule, or replace one of the same name (due times up to now are then not run)")
        {
            name, queue, cron, zone, every, payload, file, priority, maxAttempts, jitter, overlap, missed, missedAfter, start, end,
        };
        return command.Runs(async (ctx, parse) =>
        {
            byte[] body = (parse.GetValue(payload), parse.GetValue(file)) switch
            {
                ({ }, { }) => throw new UsageException("give the payload once: --payload TEXT or --file PATH, not both"),
                ({ } text, null) => Encoding.UTF8.GetBytes(text),
                (null, { } f) when !f.Exists => throw new UsageException($"--file '{f.FullName}' does not exist"),
                (null, { } f) => await File.ReadAllBytesAsync(f.FullName, ctx.Cancellation),
                _ => throw new UsageException("a schedule's task needs a payload: --payload TEXT or --file PATH"),
            };
            var interval = parse.GetValue(every);
            if ((parse.GetValue(cron) is null) == (interval is null))
                throw new UsageException("say when it runs: --cron EXPR or --every DURATION (one of them)");
            var missedPolicy = parse.GetValue(missed) switch
            {
                "run-once" => MissedRunPolicy.RunOnce,
                "skip" => MissedRunPolicy.Skip,
                var other => throw new UsageException($"--missed is run-once or skip, not '{other}'"),
            };
            var spec = new ScheduleSpec(parse.GetValue(queue)!,
                new TaskSpec(body, Priority: parse.GetValue(priority), MaxAttempts: parse.GetValue(maxAttempts)),
                Cron: parse.GetValue(cron), TimeZone: parse.GetValue(zone), IntervalMs: (long)(interval?.TotalMilliseconds ?? 0),
                StartAtUnixMs: parse.GetValue(start)?.ToUnixTimeMilliseconds() ?? 0, EndAtUnixMs: parse.GetValue(end)?.ToUnixTimeMilliseconds() ?? 0,
                JitterMs: (long)(parse.GetValue(jitter)?.TotalMilliseconds ?? 0), Overlap: parse.GetValue(overlap), MissedRuns: missedPolicy,
                MissedAfterMs: (long)(parse.GetValue(missedAfter)?.TotalMilliseconds ?? ScheduleSpec.DefaultMissedAfterMs));
            var info = await ctx.Node<ScheduleInfo>(new PutSchedule(parse.GetValue(name)!, spec, ctx.Settings.Namespace, ctx.Settings.Requester));
            Show(ctx, info);
        });
    }

    private static void Show(CliContext ctx, object reply)
    {
        var info = (ScheduleInfo)reply;
        ctx.Output.Result(info, () =>
        {
            Table(ctx.Output, [info]);
            foreach (var due in info.NextDueUnixMs) ctx.Output.Line($"  next: {QueueCommands.Time(due)}");
            if (info.LastTaskId is { } last) ctx.Output.Line($"  last task: {last}");
        });
    }

    private static void Table(CliOutput output, IEnumerable<ScheduleInfo> schedules)
    {
        var table = new TableWriter("NAME", "QUEUE", "WHEN", "NEXT", "LAST RUN", "RUNS", "SKIPPED", "PAUSED").AlignRight(5, 6);
        foreach (var s in schedules)
        {
            table.Add(s.Name, s.Spec.Queue, When(s.Spec),
                s.NextDueUnixMs.Length > 0 ? QueueCommands.Time(s.NextDueUnixMs[0]) : "-",
                QueueCommands.Time(s.LastDueUnixMs), Number(s.Runs), Number(s.Skipped),
                new TableWriter.Cell(s.Paused ? "yes" : "no", s.Paused ? Ansi.Yellow : null));
        }
        table.WriteTo(output);
    }

    private static string When(ScheduleSpec spec) => spec.Cron is { } cron
        ? $"cron {cron} {spec.TimeZone ?? "UTC"}"
        : $"every {Interval(spec.IntervalMs)}";

    /// <summary>An interval in the unit it was most likely given in: <c>1h</c>, <c>15m</c>, <c>30s</c>, <c>1500ms</c>.</summary>
    private static string Interval(long ms) => ms switch
    {
        _ when ms % 3_600_000 == 0 => $"{ms / 3_600_000}h",
        _ when ms % 60_000 == 0 => $"{ms / 60_000}m",
        _ when ms % 1_000 == 0 => $"{ms / 1_000}s",
        _ => $"{ms}ms",
    };
}
