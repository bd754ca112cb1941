using Conduit.Cli.Output;
using Conduit.Client;

namespace Conduit.Cli;

/// <summary>
/// What a command runs with: the global settings, the output, and its connection, opened on first use. Queue and task
/// requests go through <see cref="ConduitClient"/> to the frontend of the <c>--server</c> node's client endpoint;
/// cluster commands, the queue list and the operator requests the node logs go to its management gateway
/// (<see cref="ManagementConnection"/>), which every node has, frontend or not. Either way a TCP probe comes first, so
/// a missing node is reported at once.
/// </summary>
public sealed class CliContext(CliSettings settings, CliOutput output, CancellationToken cancellation) : IAsyncDisposable
{
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
    public Task<T> Operator<T>(IPartitionRequest request) => Node<T>(new OperatorRequest(request, settings.Requester));

    private async Task<T> Client<T>(Func<ConduitClient, Task<T>> call)
    {
        if (_client is null)
        {
            var local = await ServerProbe.ProbeAsync(settings, cancellation);
            _client = new ConduitClient(new ConduitClientOptions
            {
                Servers = [settings.Server.ToString()],
                ApiKey = settings.ApiKey,
                TlsCertificatePath = settings.Tls?.CertificatePath,
                TlsCertificatePassword = settings.Tls?.CertificatePassword,
                TlsCaPath = settings.Tls?.CaPath,
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
            throw new UnreachableException($"{e.Message} (server {settings.Server}; " +
                (settings.Tls is null ? "if the node runs TLS, give --tls-cert and --tls-ca; " : "") + "raise --timeout if it is busy)");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null) await _client.DisposeAsync();
        if (_management is not null) await _management.DisposeAsync();
    }
}
