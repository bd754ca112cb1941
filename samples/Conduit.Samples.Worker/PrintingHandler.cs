using Conduit.Client;
using Conduit.Client.Worker;
using Microsoft.Extensions.Hosting;

namespace Conduit.Samples;

/// <summary>Prints each task it handles; stops the application once the <see cref="WorkQuota"/> is reached.</summary>
public sealed class PrintingHandler(WorkQuota quota, IHostApplicationLifetime lifetime) : IConduitTaskHandler
{
    public async Task HandleAsync(ConduitTask task, CancellationToken cancellationToken)
    {
        await Task.Delay(10, cancellationToken); // the "work"
        Console.WriteLine($"processed {task.Id} {task.PayloadText} (attempt {task.Attempt})");
        // The host's stop waits for this handler to return, and then completes the task.
        if (quota.CountOne()) lifetime.StopApplication();
    }
}

/// <summary>How many tasks to handle before stopping; 0 means no limit.</summary>
public sealed class WorkQuota(int limit)
{
    private int _done;

    /// <summary>Counts one task; true when that reached the limit.</summary>
    public bool CountOne() => Interlocked.Increment(ref _done) == limit && limit > 0;
}
