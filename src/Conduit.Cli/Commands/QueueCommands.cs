using System.CommandLine;
using Conduit.Cli.Output;
using static Conduit.Cli.Commands.ClusterCommands;

namespace Conduit.Cli.Commands;

/// <summary><c>queues</c>, <c>queue stats | pause | resume | purge</c> and <c>dlq list | requeue</c>.</summary>
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
        };
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
