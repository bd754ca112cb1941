using Conduit.Server.Scheduling;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Conduit.Server.Dashboard;

/// <summary>
/// The dashboard's schedule API under <c>/api/schedules</c> (docs/dashboard.md), the same requests as
/// <c>conduit schedule …</c>, checked the same way as the queue API (<see cref="DashboardApi"/>): names first (400),
/// then the caller's permission in the namespace (403), then the node's management actor, which audits every change.
/// <list type="bullet">
/// <item><c>GET /api/schedules?ns=</c>: the namespace's schedules (<c>default</c> when not given), with their next due times.</item>
/// <item><c>POST /api/schedules/{ns}/{name}/pause | resume | trigger | delete</c>.</item>
/// </list>
/// </summary>
internal static class DashboardScheduleApi
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/schedules", List);
        api.MapPost("/schedules/{ns}/{name}/pause", (HttpContext c, string ns, string name, DashboardBackend b, CancellationToken t) =>
            Change<ScheduleInfo>(c, ns, name, b, by => new PauseSchedule(name, ns, by), t));
        api.MapPost("/schedules/{ns}/{name}/resume", (HttpContext c, string ns, string name, DashboardBackend b, CancellationToken t) =>
            Change<ScheduleInfo>(c, ns, name, b, by => new ResumeSchedule(name, ns, by), t));
        api.MapPost("/schedules/{ns}/{name}/trigger", (HttpContext c, string ns, string name, DashboardBackend b, CancellationToken t) =>
            Change<ScheduleTriggered>(c, ns, name, b, by => new TriggerSchedule(name, ns, by), t));
        api.MapPost("/schedules/{ns}/{name}/delete", (HttpContext c, string ns, string name, DashboardBackend b, CancellationToken t) =>
            Change<ScheduleDeleted>(c, ns, name, b, by => new DeleteSchedule(name, ns, by), t));
    }

    private static async Task<IResult> List(HttpContext context, string? ns, DashboardBackend backend, CancellationToken ct)
    {
        ns ??= PartitionId.DefaultNamespace;
        if (!NamespaceName.IsValid(ns))
            return DashboardJson.Error(400, nameof(ErrorCode.InvalidNamespace), NamespaceName.Describe(SafeText.Escape(ns, 140)));
        var request = new ListSchedules(ns);
        if (DashboardApi.Denied(context, request) is { } denied) return denied;
        return DashboardJson.Answer<ScheduleList>(await backend.Ask(request, ct), list => new
        {
            @namespace = ns,
            schedules = list.Schedules.Select(Json),
            list.Unanswered,
            list.More,
        });
    }

    /// <summary>What a row shows: the spec's timing in words, and where the schedule stands.</summary>
    private static object Json(ScheduleInfo s) => new
    {
        s.Name,
        s.Namespace,
        s.Spec.Queue,
        when = s.Spec.Cron is { } cron
            ? $"cron {cron} ({s.Spec.TimeZone ?? "UTC"})"
            : $"every {Interval(s.Spec.IntervalMs)}",
        overlap = s.Spec.Overlap.ToString(),
        missedRuns = s.Spec.MissedRuns.ToString(),
        s.Paused,
        nextDue = s.NextDueUnixMs,
        lastDue = s.LastDueUnixMs,
        s.LastTaskId,
        s.Runs,
        s.Skipped,
        createdAt = s.CreatedAtUnixMs,
    };

    /// <summary>An interval in its largest whole unit: <c>1 h</c>, <c>90 min</c>, <c>1500 ms</c>.</summary>
    internal static string Interval(long ms) =>
        ms % 86_400_000 == 0 ? $"{ms / 86_400_000} d"
        : ms % 3_600_000 == 0 ? $"{ms / 3_600_000} h"
        : ms % 60_000 == 0 ? $"{ms / 60_000} min"
        : ms % 1_000 == 0 ? $"{ms / 1_000} s"
        : $"{ms} ms";

    /// <param name="request">The change, made by the caller (the management actor logs who).</param>
    private static async Task<IResult> Change<T>(HttpContext context, string ns, string name, DashboardBackend backend,
        Func<Requester, IScheduleChange> request, CancellationToken ct)
    {
        if (ScheduleRules.CheckName(name, ns) is { } invalid) return DashboardJson.Error(DashboardJson.StatusOf(invalid.Code), invalid.Code.ToString(), invalid.Message);
        var change = request(DashboardGate.RequesterOf(context));
        if (DashboardApi.Denied(context, change) is { } denied) return denied;
        return DashboardJson.Answer<T>(await backend.Ask(change, ct), reply => reply is ScheduleInfo info ? Json(info) : reply!);
    }
}
