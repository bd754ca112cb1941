using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using Conduit.Protocol;
using Conduit.Server.Hosting;
using Conduit.Server.Matching;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conduit.Testing;

/// <summary>A refused request, as an exception, so tests can assert the typed error.</summary>
public sealed class RejectedException(Rejected rejected) : Exception(rejected.ToString())
{
    public ErrorCode Code => rejected.Code;
}

/// <summary>
/// A real Conduit node in the test process: the same hosting code as <c>Conduit.Node</c>, remoting on a free
/// loopback port, its own one-node cluster, real storage. Requests go to its frontend.
/// </summary>
public sealed class TestNode : IAsyncDisposable
{
    private readonly IHost _host;

    private TestNode(IHost host, NodeSettings settings)
    {
        _host = host;
        Settings = settings;
        System = host.Services.GetRequiredService<ActorSystem>();
        Frontend = host.Services.GetRequiredService<ActorRegistry>().Get<ConduitFrontend>();
    }

    public NodeSettings Settings { get; }
    public ActorSystem System { get; }
    public IActorRef Frontend { get; }
    /// <summary>The remoting port the node listens on (the real one when started with port 0).</summary>
    public int Port => Cluster.Get(System).SelfAddress.Port ?? throw new InvalidOperationException("no port");
    /// <summary><c>127.0.0.1:port</c>: what a client takes as its contact point.</summary>
    public string Server => $"{Settings.Host}:{Port}";
    public TimeSpan AskTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Test defaults: fast ticks and backoff so tests wait milliseconds, not seconds.</summary>
    public static PartitionOptions FastPartitionOptions => new()
    {
        TickMs = 20,
        RetryInitialMs = 50,
        RetryMaxMs = 200,
        LeaseTimeoutMs = 2_000,
        RecoveryBackoffMs = 200,
    };

    /// <param name="port">Remoting port; 0 (the default) picks a free one. Restart a killed node on its old <see cref="Port"/> to test reconnects.</param>
    public static async Task<TestNode> StartAsync(StorageOptions storage, PartitionOptions? partition = null, int partitionsPerQueue = 1, int port = 0)
    {
        var settings = new NodeSettings
        {
            Port = port,
            Storage = storage,
            Server = new ConduitServerOptions { Partition = partition ?? FastPartitionOptions, PartitionsPerQueue = partitionsPerQueue },
            ExtraHocon = "akka.loglevel = WARNING",
        };
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddAkka(NodeSettings.SystemName, akka => akka.ConfigureConduitNode(settings));
        var host = builder.Build();
        await host.StartAsync();
        var node = new TestNode(host, settings);
        await node.WaitUntilUpAsync();
        return node;
    }

    private async Task WaitUntilUpAsync()
    {
        var up = new TaskCompletionSource();
        Cluster.Get(System).RegisterOnMemberUp(() => up.TrySetResult());
        await up.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>Sends <paramref name="request"/> and returns the reply; a <see cref="Rejected"/> reply throws <see cref="RejectedException"/>.</summary>
    public async Task<T> Ask<T>(IPartitionRequest request, TimeSpan? timeout = null)
    {
        var reply = await Frontend.Ask<object>(request, timeout ?? AskTimeout);
        return reply switch
        {
            T t => t,
            Rejected r => throw new RejectedException(r),
            _ => throw new InvalidOperationException($"expected {typeof(T).Name}, got {reply}"),
        };
    }

    /// <summary>Sends <paramref name="request"/> and expects a refusal; returns its code.</summary>
    public async Task<ErrorCode> Refusal(IPartitionRequest request)
    {
        var reply = await Frontend.Ask<object>(request, AskTimeout);
        return reply is Rejected r ? r.Code : throw new InvalidOperationException($"expected a refusal, got {reply}");
    }

    public Task<Enqueued> Enqueue(string queue, string payload, int priority = TaskSpec.DefaultPriority, long delayMs = 0,
        string? key = null, int maxAttempts = 0) =>
        Ask<Enqueued>(new Enqueue(queue, new TaskSpec(global::System.Text.Encoding.UTF8.GetBytes(payload), Priority: priority,
            DelayMs: delayMs, IdempotencyKey: key, MaxAttempts: maxAttempts)));

    public async Task<LeasedTask[]> Poll(string queue, int max = 1, long waitMs = 2_000, long leaseMs = 0) =>
        (await Ask<Polled>(new Poll(queue, max, waitMs, leaseMs), TimeSpan.FromMilliseconds(waitMs) + AskTimeout)).Tasks;

    /// <summary>Stops the node without leaving the cluster or flushing anything: what a crash leaves behind.</summary>
    public async Task KillAsync()
    {
        await System.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
        _host.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (System.WhenTerminated.IsCompleted)
        {
            _host.Dispose();
            return;
        }
        try
        {
            await _host.StopAsync(TimeSpan.FromSeconds(20));
        }
        finally
        {
            _host.Dispose();
        }
    }
}
