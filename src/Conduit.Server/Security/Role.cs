namespace Conduit.Server.Security;

/// <summary>What a key may do (see <see cref="Permissions"/> for the full table). A key has one or more roles.</summary>
[Flags]
public enum Role
{
    None = 0,
    /// <summary>Enqueue tasks and read them back (<c>Enqueue</c>, <c>EnqueueBatch</c>, <c>GetTask</c>).</summary>
    Producer = 1,
    /// <summary>Take and settle tasks (<c>Poll</c>, <c>CancelPoll</c>, <c>Heartbeat</c>, <c>Complete</c>, <c>Fail</c>, <c>ReleaseTasks</c>, <c>GetTask</c>).</summary>
    Worker = 2,
    /// <summary>Everything: every queue request, queue administration (pause, purge, dead letters, cancel) and cluster commands.</summary>
    Operator = 4,
    All = Producer | Worker | Operator,
}

/// <summary>The role names of the keys file and the CLI (<c>producer</c>, <c>worker</c>, <c>operator</c>).</summary>
public static class RoleNames
{
    public static bool TryParse(string? name, out Role role)
    {
        role = name switch
        {
            "producer" => Role.Producer,
            "worker" => Role.Worker,
            "operator" => Role.Operator,
            _ => Role.None,
        };
        return role != Role.None;
    }

    /// <summary>The lowercase names of the roles in <paramref name="roles"/>, comma-separated (<c>none</c> for none).</summary>
    public static string Format(Role roles)
    {
        var names = new List<string>(3);
        if (roles.HasFlag(Role.Producer)) names.Add("producer");
        if (roles.HasFlag(Role.Worker)) names.Add("worker");
        if (roles.HasFlag(Role.Operator)) names.Add("operator");
        return names.Count == 0 ? "none" : string.Join(',', names);
    }
}
