using Conduit.Cli.Output;

namespace Conduit.Cli;

/// <summary>What a command runs with: the global settings, the output, and the connection (opened on first use).</summary>
public sealed class CliContext(CliSettings settings, CliOutput output, CancellationToken cancellation) : IAsyncDisposable
{
    private ManagementConnection? _connection;

    public CliSettings Settings => settings;
    public CliOutput Output => output;
    public CancellationToken Cancellation => cancellation;

    /// <summary>Asks the node's management actor; see <see cref="ManagementConnection.AskAsync{T}"/>.</summary>
    public async Task<T> Ask<T>(IConduitMessage request, TimeSpan? extraWait = null)
    {
        _connection ??= await ManagementConnection.OpenAsync(settings, cancellation);
        return await _connection.AskAsync<T>(request, extraWait, cancellation);
    }

    /// <summary>A queue or task request, sent as an operator request so the node knows (and, when destructive, logs) who asked.</summary>
    public Task<T> Queue<T>(IPartitionRequest request, TimeSpan? extraWait = null) =>
        Ask<T>(new OperatorRequest(request, settings.Requester), extraWait);

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null) await _connection.DisposeAsync();
    }
}
