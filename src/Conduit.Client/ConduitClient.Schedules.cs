namespace Conduit.Client;

// Schedules: recurring tasks (see Conduit.Protocol.ScheduleSpec and docs/schedules.md). Every method acts in the
// client's namespace (ConduitClientOptions.Namespace) and needs the Operator role there when the cluster has API keys.
public sealed partial class ConduitClient
{
    /// <summary>Creates the schedule <paramref name="name"/>, or replaces its spec (due times up to now are then not run). Returns where it stands.</summary>
    /// <exception cref="InvalidArgumentException">The name or the spec is not valid (the message says which part).</exception>
    public Task<ScheduleInfo> PutScheduleAsync(string name, ScheduleSpec spec, CancellationToken cancellationToken = default) =>
        AskAsync<ScheduleInfo>(ManagementPath, new PutSchedule(name, spec, Namespace), null, cancellationToken);

    /// <summary>The schedule and its next due times.</summary>
    /// <exception cref="ScheduleNotFoundException">No such schedule.</exception>
    public Task<ScheduleInfo> GetScheduleAsync(string name, CancellationToken cancellationToken = default) =>
        AskAsync<ScheduleInfo>(ManagementPath, new GetSchedule(name, Namespace), null, cancellationToken);

    /// <summary>The namespace's schedules by name (at most <see cref="ScheduleList.MaxSchedules"/>; <c>More</c> says whether there are others, <c>Unanswered</c> which nodes or schedules did not answer).</summary>
    public Task<ScheduleList> ListSchedulesAsync(CancellationToken cancellationToken = default) =>
        AskAsync<ScheduleList>(ManagementPath, new ListSchedules(Namespace), null, cancellationToken);

    /// <summary>No runs until resumed; due times while paused are not run.</summary>
    public Task<ScheduleInfo> PauseScheduleAsync(string name, CancellationToken cancellationToken = default) =>
        AskAsync<ScheduleInfo>(ManagementPath, new PauseSchedule(name, Namespace), null, cancellationToken);

    /// <summary>Runs again from the next due time.</summary>
    public Task<ScheduleInfo> ResumeScheduleAsync(string name, CancellationToken cancellationToken = default) =>
        AskAsync<ScheduleInfo>(ManagementPath, new ResumeSchedule(name, Namespace), null, cancellationToken);

    /// <summary>Deletes the schedule; tasks it already enqueued stay.</summary>
    /// <exception cref="ScheduleNotFoundException">No such schedule.</exception>
    public Task<ScheduleDeleted> DeleteScheduleAsync(string name, CancellationToken cancellationToken = default) =>
        AskAsync<ScheduleDeleted>(ManagementPath, new DeleteSchedule(name, Namespace), null, cancellationToken);

    /// <summary>Enqueues the schedule's task once now, outside its due times (also when paused). Returns the task's id.</summary>
    public async Task<string> TriggerScheduleAsync(string name, CancellationToken cancellationToken = default) =>
        (await AskAsync<ScheduleTriggered>(ManagementPath, new TriggerSchedule(name, Namespace), null, cancellationToken).ConfigureAwait(false)).TaskId;
}
