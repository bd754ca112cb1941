using Conduit.Cli.Output;
using Conduit.Client;

namespace Conduit.Cli;

/// <summary>
/// What a command runs with: the global settings, the output, and its connection, opened on first use. Queue
/// commands go through <see cref="ConduitClient"/> (ClusterClient: to the frontend, or to the management service
/// for the queue list and the operator requests the node logs); cluster commands go to the <c>--server</c> node's
/// management actor directly (<see cref="ManagementConnection"/>). Either way a TCP probe comes first, so a missing
/// node is reported at once.
/// </summary>
public sealed class CliContext(CliSettings settings, CliOutput output, CancellationToken cancellation) : IAsyncDisposable
{
    /// <summary>Service path of the management actor on every node (registered with the receptionist).</summary>
    public const string ManagementPath = "/user/management";

    private ManagementConnection? _management;
    private ConduitClient? _client;

    public CliSettings Settings => settings;
    public CliOutput Output => output;
    public CancellationToken Cancellation => cancellation;

    /// <summary>Asks the <c>--server</c> node's own management actor; see <see cref="ManagementConnection.AskAsync{T}"/>.</summary>
    public async Task<T> Node<T>(IManagementRequest request)
    {
        _management ??= await ManagementConnection.OpenAsync(settings, cancellation);
        return await _management.AskAsync<T>(request, ct: cancellation);
    }

    /// <summary>A queue or task request to the cluster's frontend.</summary>
    public Task<T> Queue<T>(IPartitionRequest request, TimeSpan? extraWait = null) =>
        Client(client => client.RequestAsync<T>(request, settings.Timeout + (extraWait ?? TimeSpan.Zero), cancellation));

    /// <summary>A queue request the node should log with who asked (purge, dead-letter requeue), through the management service.</summary>
    public Task<T> Operator<T>(IPartitionRequest request) => Management<T>(new OperatorRequest(request, settings.Requester));

    /// <summary>A request to any node's management service (through ClusterClient).</summary>
    public Task<T> Management<T>(IManagementRequest request) =>
        Client(client => client.AskAsync<T>(ManagementPath, request, settings.Timeout, cancellation));

    private async Task<T> Client<T>(Func<ConduitClient, Task<T>> call)
    {
        if (_client is null)
        {
            var local = await ServerProbe.ProbeAsync(settings, cancellation);
            _client = new ConduitClient(new ConduitClientOptions
            {
                Servers = [settings.Server.ToString()],
                Namespace = settings.Namespace,
                LocalHost = local.ToString(),
                RequestTimeout = settings.Timeout,
                PollTimeoutMargin = settings.Timeout,
                ExtraHocon = $"""
                    akka.loglevel = OFF
                    akka.stdout-loglevel = OFF
                    """,
            });
        }
        try
        {
            return await call(_client);
        }
        catch (ConduitException e)
        {
            throw new RefusedException(new Rejected(e.Code, e.Message));
        }
        catch (ConduitTimeoutException e)
        {
            throw new UnreachableException($"{e.Message} (server {settings.Server}; raise --timeout if it is busy)");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null) await _client.DisposeAsync();
        if (_management is not null) await _management.DisposeAsync();
    }
}
