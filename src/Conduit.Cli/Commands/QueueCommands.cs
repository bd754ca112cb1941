using System.CommandLine;
using Conduit.Cli.Output;
using static Conduit.Cli.Commands.ClusterCommands;

namespace Conduit.Cli.Commands;

/// <summary><c>queues</c>, <c>queue stats | pause | resume | purge | limits</c> and <c>dlq list | requeue</c>.</summary>
public static class QueueCommands
{
    public static Command Queues() =>
        new Command("queues", "every queue with a running partition: ready, delayed, running, dead, oldest age, pollers").Runs(async (ctx, _) =>
        {
            var list = await ctx.Node<QueueList>(new ListQueues());
            ctx.Output.Result(list, () =>
            {
                StatsTable(ctx.Output, list.Queues);
                if (list.Queues.Length == 0) ctx.Output.Note("no queues yet: a queue appears once it is used (e.g. `conduit enqueue QUEUE --payload hi`)");
                if (list.More) ctx.Output.Note($"more queues run than are listed here (the first {QueueList.MaxQueues} by name); use `conduit queue stats QUEUE` for one");
                Unanswered(ctx.Output, list.Unanswered);
            });
        });

    public static Command Queue()
    {
        return new Command("queue", "one queue's stats and administration")
        {
            QueueAction("stats", "ready, delayed, running, dead-lettered, oldest ready age, waiting pollers",
                async (ctx, queue) =>
                {
                    var stats = await ctx.Queue<QueueStats>(new GetQueueStats(queue, ctx.Settings.Namespace));
                    ctx.Output.Result(stats, () => StatsTable(ctx.Output, [stats]));
                }),
            QueueAction("pause", "stop dispatching (enqueues are still accepted)", async (ctx, queue) =>
            {
                var changed = await ctx.Operator<QueueStateChanged>(new PauseQueue(queue, ctx.Settings.Namespace));
                ctx.Output.Result(changed, () => ctx.Output.Line($"queue {queue} paused: nothing is dispatched until `conduit queue resume {queue}`"));
            }),
            QueueAction("resume", "dispatch again after a pause", async (ctx, queue) =>
            {
                var changed = await ctx.Operator<QueueStateChanged>(new ResumeQueue(queue, ctx.Settings.Namespace));
                ctx.Output.Result(changed, () => ctx.Output.Line($"queue {queue} resumed"));
            }),
            QueueAction("purge", "drop every ready, delayed and dead-lettered task (running ones finish)", async (ctx, queue) =>
            {
                var purged = await ctx.Operator<QueuePurged>(new PurgeQueue(queue, ctx.Settings.Namespace));
                ctx.Output.Result(purged, () => ctx.Output.Line($"purged {Number(purged.Purged)} tasks from {queue}"));
            }),
            Limits(),
        };
    }

    /// <summary>
    /// <c>queue limits QUEUE [--rate R] [--burst N] [--max-running N] [--max-running-per-key N] [--clear]</c>: without options shows the limits in force;
    /// with them changes the ones given (0 lifts one; the others stay as they are), <c>--clear</c> lifts them all.
    /// </summary>
    private static Command Limits()
    {
        var queue = Arguments.Queue();
        var rate = new Option<double?>("--rate")
        {
            Description = "at most this many tasks handed to workers a second, over the whole queue (0: no rate limit)",
            HelpName = "per-second",
            CustomParser = r =>
            {
                var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : null;
                if (double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value)
                    && double.IsFinite(value) && value >= 0 && value <= QueueLimits.MaxRate)
                    return value;
                r.AddError($"--rate must be a number 0..{QueueLimits.MaxRate:0} (tasks a second), not '{text}'");
                return null;
            },
        };
        var burst = Arguments.Int("--burst", "how many tasks may go at once after a quiet spell (0: one second's worth of the rate)", null, 0, QueueLimits.MaxCount, "tasks");
        var running = Arguments.Int("--max-running", "at most this many tasks of the queue leased at once (0: no limit)", null, 0, QueueLimits.MaxCount, "tasks");
        var perKey = Arguments.Int("--max-running-per-key", "at most this many tasks with the same concurrency key leased at once (0: no limit)", null, 0,
            QueueLimits.MaxCount, "tasks");
        var clear = new Option<bool>("--clear") { Description = "lift every limit of the queue" };
        var command = new Command("limits", "show or set the queue's rate and running limits (docs/limits.md)") { queue, rate, burst, running, perKey, clear };
        return command.Runs(async (ctx, parse) =>
        {
            var name = parse.GetValue(queue)!;
            var (newRate, newBurst, newRunning, lift) = (parse.GetValue(rate), parse.GetResult(burst) is { Implicit: false } ? parse.GetValue(burst) : (int?)null,
                parse.GetResult(running) is { Implicit: false } ? parse.GetValue(running) : (int?)null, parse.GetValue(clear));
            var newPerKey = parse.GetResult(perKey) is { Implicit: false } ? parse.GetValue(perKey) : (int?)null;
            if (!lift && newRate is null && newBurst is null && newRunning is null && newPerKey is null)
            {
                var stats = await ctx.Queue<QueueStats>(new GetQueueStats(name, ctx.Settings.Namespace));
                var shown = stats.Limits ?? QueueLimits.None;
                ctx.Output.Result(new QueueLimitsChanged(name, shown, stats.Namespace), () => ctx.Output.Line($"queue {name}: {shown}"));
                return;
            }
            var current = lift ? QueueLimits.None
                : (await ctx.Queue<QueueStats>(new GetQueueStats(name, ctx.Settings.Namespace))).Limits ?? QueueLimits.None;
            var wanted = new QueueLimits(newRate ?? current.RatePerSecond, newBurst ?? current.Burst, newRunning ?? current.MaxRunning,
                newPerKey ?? current.MaxRunningPerKey);
            if (wanted.RatePerSecond <= 0 && newBurst is null) wanted = wanted with { Burst = 0 }; // the rate lifted: its burst goes with it
            var changed = await ctx.Operator<QueueLimitsChanged>(new SetQueueLimits(name, wanted, ctx.Settings.Namespace));
            ctx.Output.Result(changed, () => ctx.Output.Line($"queue {name}: {changed.Limits}"));
        });
    }

    private static Command QueueAction(string name, string description, Func<CliContext, string, Task> run)
    {
        var queue = Arguments.Queue();
        var command = new Command(name, description) { queue };
        return command.Runs((ctx, parse) => run(ctx, parse.GetValue(queue)!));
    }

    public static Command DeadLetters()
    {
        var listQueue = Arguments.Queue();
        var limit = Arguments.Int("--limit", "list at most this many", 100, 1, 10_000, "how many dead letters to list");
        var list = new Command("list", "dead-lettered tasks of a queue, oldest first") { listQueue, limit };
        list.Runs(async (ctx, parse) =>
        {
            var queue = parse.GetValue(listQueue)!;
            var wanted = parse.GetValue(limit);
            // A reply holds at most 4 MiB: page with the cursor until the limit is reached or nothing more follows.
            var items = new List<DeadLetter>();
            var request = new ListDeadLetters(queue, wanted, Namespace: ctx.Settings.Namespace);
            DeadLetters page;
            do
            {
                page = await ctx.Queue<DeadLetters>(request with { Limit = wanted - items.Count });
                items.AddRange(page.Items);
                if (page.Items.Length == 0) break;
                request = request with { AfterFailedAtUnixMs = page.Items[^1].FailedAtUnixMs, AfterTaskId = page.Items[^1].TaskId };
            } while (page.More && items.Count < wanted);
            var dead = new DeadLetters(queue, items.ToArray(), page.More, ctx.Settings.Namespace);
            ctx.Output.Result(dead, () =>
            {
                var table = new TableWriter("TASK", "ATTEMPTS", "FAILED AT", "REASON").AlignRight(1);
                foreach (var d in dead.Items)
                    table.Add(d.TaskId, d.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture), Time(d.FailedAtUnixMs), d.Reason ?? "");
                table.WriteTo(ctx.Output);
                if (dead.Items.Length == 0) ctx.Output.Note($"no dead letters in {queue}");
                else if (dead.More) ctx.Output.Note($"{dead.Items.Length} shown; more dead letters follow (raise --limit, up to 10,000)");
            });
        });

        var requeueQueue = Arguments.Queue();
        var all = new Option<bool>("--all") { Description = "requeue every dead letter of the queue" };
        var ids = Arguments.TaskIds("task ids to requeue (from `conduit dlq list`)");
        var requeue = new Command("requeue", "put dead-lettered tasks back on the queue with fresh attempts") { requeueQueue, ids, all };
        requeue.Runs(async (ctx, parse) =>
        {
            var queue = parse.GetValue(requeueQueue)!;
            var tasks = parse.GetValue(ids) ?? [];
            var everything = parse.GetValue(all);
            if (everything == tasks.Length > 0)
                throw new UsageException(everything
                    ? "give either --all or task ids, not both"
                    : $"say which dead letters to requeue: `conduit dlq requeue {queue} --all`, or task ids from `conduit dlq list {queue}`");
            var requeued = await ctx.Operator<DeadLettersRequeued>(new RequeueDeadLetters(queue, everything ? null : tasks, ctx.Settings.Namespace));
            ctx.Output.Result(requeued, () => ctx.Output.Line($"requeued {Number(requeued.Count)} dead letters of {queue}"));
        });
        return new Command("dlq", "a queue's dead-letter list") { list, requeue };
    }

    internal static void StatsTable(CliOutput output, IEnumerable<QueueStats> queues)
    {
        var table = new TableWriter("NAMESPACE", "QUEUE", "READY", "DELAYED", "RUNNING", "DEAD", "OLDEST", "POLLERS", "PAUSED", "PARTITIONS")
            .AlignRight(2, 3, 4, 5, 6, 7, 9);
        foreach (var q in queues)
        {
            table.Add(q.Namespace, q.Queue, Number(q.Ready), Number(q.Delayed), Number(q.Running),
                new TableWriter.Cell(Number(q.DeadLettered), q.DeadLettered > 0 ? Ansi.Red : null),
                q.Ready == 0 ? "-" : Durations.Format(TimeSpan.FromMilliseconds(q.OldestReadyAgeMs)),
                Number(q.WaitingPollers),
                new TableWriter.Cell(q.Paused ? "yes" : "no", q.Paused ? Ansi.Yellow : null),
                Number(q.Partitions));
        }
        table.WriteTo(output);
    }

    internal static string Time(long unixMs) =>
        unixMs <= 0 ? "-" : DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
