namespace Conduit.Server.Management;

/// <summary>How the node's <see cref="ManagementActor"/> gathers answers from the rest of the cluster.</summary>
public sealed record ManagementOptions
{
    /// <summary>Default for <see cref="FanOutTimeout"/>: 5 seconds.</summary>
    public static readonly TimeSpan DefaultFanOutTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long to wait for other nodes, shard regions and partitions when an answer is gathered from several of
    /// them (queue list, sharding stats). Whoever has not answered by then is reported as unanswered rather than
    /// failing the whole request. Defaults to <see cref="DefaultFanOutTimeout"/> (5 s), below the CLI's default
    /// 10 s timeout so a partial answer arrives before the CLI gives up.
    /// </summary>
    public TimeSpan FanOutTimeout { get; init; } = DefaultFanOutTimeout;
}
