using System.Text.Json;
using Conduit.Server.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Conduit.Server.Dashboard;

/// <summary>
/// The dashboard's JSON API under <c>/api</c>, what its pages use and scripts may too. Every handler checks its ids and
/// names with the protocol's own rules first (400, nothing asked), then the caller's permission for the request it
/// makes (<see cref="Permissions"/>, as over remoting; 403), then asks the node's management actor, which routes queue
/// requests and writes the audit lines for actions.
/// <list type="bullet">
/// <item><c>GET /api/cluster</c>: members, leader, the partitions' shards per node, this node's partitions.</item>
/// <item><c>GET /api/queues</c>: every running queue with its depth and trend; <c>GET /api/history</c>: totals over time.</item>
/// <item><c>GET /api/queues/{ns}/{queue}</c>: one queue's stats and history; <c>…/dead-letters?limit=&amp;afterMs=&amp;afterId=</c>: a page of them.</item>
/// <item><c>POST /api/queues/{ns}/{queue}/pause | resume | purge | dead-letters/requeue</c> (body <c>{"taskIds": [...]}</c> or <c>{"all": true}</c>).</item>
/// <item><c>GET /api/tasks?id=</c>: one task's state; <c>POST /api/tasks/cancel?id=</c>.</item>
/// <item>Schedules: <see cref="DashboardScheduleApi"/>.</item>
/// </list>
/// </summary>
internal static class DashboardApi
{
    /// <summary>Dead letters per page at most: 500 (the protocol allows 10,000 per request; a page is for reading).</summary>
    public const int MaxDeadLettersPerPage = 500;
    /// <summary>Tasks per page of a listing by state at most: 500.</summary>
    public const int MaxTasksPerPage = 500;
    /// <summary>Largest POST body read: 256 KiB (1,000 task ids fit).</summary>
    public const int MaxBodyBytes = 256 * 1024;

    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/cluster", ClusterView);
        api.MapGet("/queues", QueueListView);
        api.MapGet("/history", HistoryView);
        api.MapGet("/queues/{ns}/{queue}", QueueView);
        api.MapGet("/queues/{ns}/{queue}/dead-letters", DeadLetterPage);
        api.MapPost("/queues/{ns}/{queue}/dead-letters/requeue", RequeueAction);
        api.MapGet("/queues/{ns}/{queue}/tasks", TaskPage);
        api.MapPost("/queues/{ns}/{queue}/pause", (HttpContext c, string ns, string queue, DashboardBackend b, CancellationToken t) =>
            QueueAction<QueueStateChanged>(c, ns, queue, b, new PauseQueue(queue, ns), t));
        api.MapPost("/queues/{ns}/{queue}/resume", (HttpContext c, string ns, string queue, DashboardBackend b, CancellationToken t) =>
            QueueAction<QueueStateChanged>(c, ns, queue, b, new ResumeQueue(queue, ns), t));
        api.MapPost("/queues/{ns}/{queue}/purge", (HttpContext c, string ns, string queue, DashboardBackend b, CancellationToken t) =>
            QueueAction<QueuePurged>(c, ns, queue, b, new PurgeQueue(queue, ns), t));
        api.MapGet("/tasks", TaskLookup);
        api.MapPost("/tasks/cancel", CancelAction);
        DashboardScheduleApi.Map(api);
    }

    private static async Task<IResult> ClusterView(HttpContext context, DashboardBackend backend, CancellationToken ct)
    {
        if (Denied(context, new GetClusterState()) is { } denied) return denied;
        var state = backend.Ask(new GetClusterState(), ct);
        var sharding = backend.Ask(new GetShardingStats(), ct);
        var local = backend.Ask(new GetLocalPartitions(), ct);
        if (await state is not ClusterState cluster) return DashboardJson.Answer<ClusterState>(await state);
        return DashboardJson.Ok(new
        {
            cluster.Self,
            cluster.Leader,
            cluster.Members,
            // Shard stats and local partitions are extras: the page shows why when they are missing.
            sharding = await sharding as ShardingStats,
            shardingError = (await sharding as Rejected)?.Message,
            localPartitions = await local as LocalPartitions,
        });
    }

    private static async Task<IResult> QueueListView(HttpContext context, DashboardBackend backend, QueueHistory history, CancellationToken ct)
    {
        var who = DashboardGate.Who(context);
        // Someone allowed to see queues is looking: keep the chart's sampler running (QueueHistory.WatchedFor).
        if (who.HasAny(Role.Operator)) history.Viewed(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        // The queue list is cluster-wide; an operator of some namespaces sees the queues of those (what their stats requests would give).
        if (!who.IsInEveryNamespace && who.HasAny(Role.Operator))
        {
            var reply = await backend.Ask(new ListQueues(), ct);
            return DashboardJson.Answer<QueueList>(reply, list => QueueListJson(
                list with { Queues = list.Queues.Where(q => who.CanUse(q.Namespace)).ToArray(), Unanswered = [] }, history));
        }
        if (Denied(context, new ListQueues()) is { } denied) return denied;
        return DashboardJson.Answer<QueueList>(await backend.Ask(new ListQueues(), ct), list => QueueListJson(list, history));
    }

    private static object QueueListJson(QueueList list, QueueHistory history) => new
    {
        queues = list.Queues.Select(q => QueueJson(q, history.Of(q.Namespace, q.Queue))),
        list.Unanswered,
        list.More,
    };

    private static object QueueJson(QueueStats q, QueueHistory.Point[] points)
    {
        var trend = QueueHistory.Trend(points);
        return new
        {
            q.Namespace, q.Queue, q.Ready, q.Delayed, q.Running, dead = q.DeadLettered, q.OldestReadyAgeMs, q.WaitingPollers,
            q.Paused, q.Partitions,
            // The queue's dispatch limits (docs/limits.md), as the CLI prints them; null: none.
            limits = q.Limits?.ToString(),
            backlogPerMinute = trend?.BacklogPerMinute,
            deadPerMinute = trend?.DeadPerMinute,
        };
    }

    private static IResult HistoryView(HttpContext context, QueueHistory history)
    {
        if (Denied(context, new ListQueues()) is { } denied) return denied;
        history.Viewed(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        return DashboardJson.Ok(new
        {
            intervalMs = (long)QueueSampler.Interval.TotalMilliseconds,
            windowMs = (long)(QueueSampler.Interval.TotalMilliseconds * history.Capacity),
            totals = history.Totals(),
            trackedQueues = history.TrackedQueues,
        });
    }

    private static async Task<IResult> QueueView(HttpContext context, string ns, string queue, DashboardBackend backend, QueueHistory history,
        CancellationToken ct)
    {
        var request = new GetQueueStats(queue, ns);
        if ((BadQueue(ns, queue) ?? Denied(context, request)) is { } refused) return refused;
        var points = history.Of(ns, queue);
        return DashboardJson.Answer<QueueStats>(await backend.Operator(request, DashboardGate.RequesterOf(context), ct),
            stats => new { stats = QueueJson(stats, points), history = points });
    }

    private static async Task<IResult> DeadLetterPage(HttpContext context, string ns, string queue, DashboardBackend backend, CancellationToken ct,
        int? limit, long? afterMs, string? afterId)
    {
        if (BadQueue(ns, queue) is { } bad) return bad;
        if (limit is < 1 or > MaxDeadLettersPerPage) return DashboardJson.BadRequest($"limit must be 1..{MaxDeadLettersPerPage}");
        if (afterMs is < 0) return DashboardJson.BadRequest("afterMs must be a Unix time in milliseconds");
        if (afterId is not null && !TaskId.TryParse(afterId, out _)) return DashboardJson.BadRequest("afterId is not a task id");
        if ((afterId is null) != (afterMs is null)) return DashboardJson.BadRequest("give afterMs and afterId together (the last item of the previous page)");
        var request = new ListDeadLetters(queue, limit ?? 50, afterMs ?? 0, afterId, ns);
        if (Denied(context, request) is { } denied) return denied;
        return DashboardJson.Answer<DeadLetters>(await backend.Operator(request, DashboardGate.RequesterOf(context), ct));
    }

    /// <summary>The states a listing takes, by name (numbers are refused: they would name states that do not exist).</summary>
    private static readonly Dictionary<string, TaskStatus> ListedStates = Enum.GetValues<TaskStatus>()
        .ToDictionary(s => s.ToString(), s => s, StringComparer.OrdinalIgnoreCase);

    private static async Task<IResult> TaskPage(HttpContext context, string ns, string queue, DashboardBackend backend, CancellationToken ct,
        string? state, int? limit, string? after)
    {
        if (BadQueue(ns, queue) is { } bad) return bad;
        if (state is null || !ListedStates.TryGetValue(state, out var status))
            return DashboardJson.BadRequest($"state must be one of {string.Join(", ", ListedStates.Values)}");
        if (limit is < 1 or > MaxTasksPerPage) return DashboardJson.BadRequest($"limit must be 1..{MaxTasksPerPage}");
        if (after is { Length: > ListTasks.MaxCursorLength }) return DashboardJson.BadRequest("after is not a cursor of this listing");
        var request = new ListTasks(queue, status, limit ?? 50, after, ns);
        if (Denied(context, request) is { } denied) return denied;
        return DashboardJson.Answer<TaskList>(await backend.Operator(request, DashboardGate.RequesterOf(context), ct));
    }

    private sealed record RequeueBody(string[]? TaskIds, bool All);

    private static async Task<IResult> RequeueAction(HttpContext context, string ns, string queue, DashboardBackend backend, CancellationToken ct)
    {
        if (BadQueue(ns, queue) is { } bad) return bad;
        RequeueBody? body;
        try
        {
            body = await ReadBody<RequeueBody>(context, ct);
        }
        catch (JsonException)
        {
            return DashboardJson.BadRequest("the body must be JSON: {\"taskIds\": [\"…\"]} or {\"all\": true}");
        }
        var ids = body?.TaskIds ?? [];
        if (body is null || body.All == ids.Length > 0)
            return DashboardJson.BadRequest("say which dead letters to requeue: {\"taskIds\": [\"…\"]} or {\"all\": true}, not both");
        if (ids.Length > WireLimits.MaxIdsPerRequest) return DashboardJson.BadRequest($"at most {WireLimits.MaxIdsPerRequest} task ids per request");
        foreach (var text in ids)
        {
            if (!TaskId.TryParse(text, out var id)) return DashboardJson.BadRequest($"'{SafeText.Escape(text, 100)}' is not a task id");
            if (id.Partition.Namespace != ns || id.Partition.Queue != queue)
                return DashboardJson.BadRequest($"task {SafeText.Escape(text, 100)} is not of queue {ns}/{queue}");
        }
        return await QueueAction<DeadLettersRequeued>(context, ns, queue, backend, new RequeueDeadLetters(queue, body.All ? null : ids, ns), ct);
    }

    private static async Task<IResult> QueueAction<T>(HttpContext context, string ns, string queue, DashboardBackend backend, IPartitionRequest request,
        CancellationToken ct)
    {
        if ((BadQueue(ns, queue) ?? Denied(context, request)) is { } refused) return refused;
        return DashboardJson.Answer<T>(await backend.Operator(request, DashboardGate.RequesterOf(context), ct));
    }

    private static async Task<IResult> TaskLookup(HttpContext context, string? id, DashboardBackend backend, CancellationToken ct)
    {
        if (!TaskId.TryParse(id, out _)) return DashboardJson.BadRequest($"'{SafeText.Escape(id, 100)}' is not a task id (ns/queue#partition:seq)");
        var request = new GetTask(id!);
        if (Denied(context, request) is { } denied) return denied;
        return DashboardJson.Answer<TaskInfo>(await backend.Operator(request, DashboardGate.RequesterOf(context), ct));
    }

    private static async Task<IResult> CancelAction(HttpContext context, string? id, DashboardBackend backend, CancellationToken ct)
    {
        if (!TaskId.TryParse(id, out _)) return DashboardJson.BadRequest($"'{SafeText.Escape(id, 100)}' is not a task id (ns/queue#partition:seq)");
        var request = new CancelTask(id!);
        if (Denied(context, request) is { } denied) return denied;
        return DashboardJson.Answer<Cancelled>(await backend.Operator(request, DashboardGate.RequesterOf(context), ct));
    }

    /// <summary>400 naming the rule when <paramref name="ns"/> or <paramref name="queue"/> breaks it; null when both are valid.</summary>
    private static IResult? BadQueue(string ns, string queue) =>
        !NamespaceName.IsValid(ns) ? DashboardJson.Error(400, nameof(ErrorCode.InvalidNamespace), NamespaceName.Describe(SafeText.Escape(ns, 140)))
        : !QueueName.IsValid(queue) ? DashboardJson.Error(400, nameof(ErrorCode.InvalidQueueName), QueueName.Describe(SafeText.Escape(queue, 140)))
        : null;

    /// <summary>403 when the caller may not make <paramref name="request"/> (the role table of remoting requests); null when they may.</summary>
    internal static IResult? Denied(HttpContext context, IClientRequest request)
    {
        var who = DashboardGate.Who(context);
        // Queue requests go out wrapped, as the CLI's do: the operator role is what they need.
        var asked = request is IPartitionRequest partitionRequest ? new OperatorRequest(partitionRequest, Requester.Unknown) : request;
        return Permissions.Check(who, asked, RequestNamespace.Of(asked)) is { } refused
            ? DashboardJson.Error(StatusCodes.Status403Forbidden, refused.Code.ToString(), refused.Message)
            : null;
    }

    /// <summary>The JSON body as a <typeparamref name="T"/> (null when empty); at most <see cref="MaxBodyBytes"/>, else <see cref="JsonException"/>.</summary>
    internal static async Task<T?> ReadBody<T>(HttpContext context, CancellationToken ct) where T : class
    {
        if (context.Request.ContentLength is > MaxBodyBytes) throw new JsonException("too large");
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes) throw new JsonException("too large");
            buffer.Write(chunk, 0, read);
        }
        return buffer.Length == 0 ? null : JsonSerializer.Deserialize<T>(buffer.ToArray(), DashboardJson.Options);
    }
}
