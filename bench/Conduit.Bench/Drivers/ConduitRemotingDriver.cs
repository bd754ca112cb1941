using Akka.Actor;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Conduit.Protocol;
using Conduit.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conduit.Bench.Drivers;

/// <summary>
/// Conduit over plain Akka remoting: one client ActorSystem (provider remote, Conduit's serializers) whose asks
/// go to the node's <c>/user/frontend</c>, resolved once, as NodeExecutableTests' RemoteClient does. Every
/// producer and worker shares the one ActorSystem and its one connection, as an application would.
/// </summary>
public sealed class ConduitRemotingDriver : IQueueDriver
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(60);
    private readonly IHost _host;
    private readonly IActorRef _frontend;

    private ConduitRemotingDriver(IHost host, IActorRef frontend)
    {
        _host = host;
        _frontend = frontend;
    }

    public string Name => "Conduit";

    /// <summary>
    /// true (the default): a worker completes the tasks of a poll with one <see cref="Complete"/> carrying every lease
    /// (<c>MoreLeaseTokens</c>); false: one Complete per task, sent together, as the protocol had it first.
    /// </summary>
    public bool CompleteInOneRequest { get; set; } = true;

    public static async Task<ConduitRemotingDriver> ConnectAsync(int port)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddAkka("bench-client", akka => akka
            .WithRemoting("127.0.0.1", 0)
            .WithConduitSerialization()
            .AddHocon("""
                akka.actor.provider = remote
                akka.loglevel = WARNING
                akka.log-dead-letters = off
                """, HoconAddMode.Prepend));
        var host = builder.Build();
        await host.StartAsync();
        var system = host.Services.GetRequiredService<ActorSystem>();
        var frontend = await system.ActorSelection($"akka.tcp://conduit@127.0.0.1:{port}/user/frontend")
            .ResolveOne(TimeSpan.FromSeconds(30));
        return new ConduitRemotingDriver(host, frontend);
    }

    public async Task<T> AskAsync<T>(IPartitionRequest request, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        var reply = await _frontend.Ask<object>(request, timeout ?? AskTimeout, ct);
        return reply switch
        {
            T t => t,
            Rejected r => throw new ConduitRejectedException(r),
            _ => throw new InvalidOperationException($"expected {typeof(T).Name}, got {reply}"),
        };
    }

    public Task<IProducer> OpenProducerAsync() => Task.FromResult<IProducer>(new Producer(this));
    public Task<IWorker> OpenWorkerAsync(int claimSize) => Task.FromResult<IWorker>(new Worker(this, claimSize, CompleteInOneRequest));

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }

    private sealed class Producer(ConduitRemotingDriver d) : IProducer
    {
        public Task EnqueueAsync(string queue, byte[] payload) =>
            Retry.OnOverloaded(() => d.AskAsync<Enqueued>(new Enqueue(queue, new TaskSpec(payload))));

        public Task EnqueueBatchAsync(string queue, byte[][] payloads) =>
            Retry.OnOverloaded(() => d.AskAsync<EnqueuedBatch>(new EnqueueBatch(queue, payloads.Select(p => new TaskSpec(p)).ToArray())));

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class Worker(ConduitRemotingDriver d, int claimSize, bool oneRequest) : IWorker
    {
        private LeasedTask[] _last = [];

        public async Task<IReadOnlyList<byte[]>> PollAsync(string queue, TimeSpan wait, CancellationToken ct)
        {
            // A poll id, withdrawn when the poll is cancelled (a drain stopped by its cap), as ConduitClient does: tasks
            // the waiting poll would take after that otherwise stay leased to nobody for the 30 s lease.
            var pollId = Random.Shared.NextInt64(1, long.MaxValue);
            await using var withdraw = ct.Register(() => d._frontend.Tell(new CancelPoll(queue, pollId)));
            var polled = await d.AskAsync<Polled>(new Poll(queue, claimSize, (long)wait.TotalMilliseconds, PollId: pollId), wait + AskTimeout, ct);
            _last = polled.Tasks;
            var payloads = new byte[_last.Length][];
            for (var i = 0; i < payloads.Length; i++) payloads[i] = _last[i].Payload;
            return payloads;
        }

        public async Task CompleteAllAsync()
        {
            var last = _last;
            _last = [];
            if (last.Length == 0) return;
            if (last.Length == 1) { await d.AskAsync<Completed>(new Complete(last[0].LeaseToken)); return; }
            if (oneRequest)
            {
                var more = new string[last.Length - 1];
                for (var i = 1; i < last.Length; i++) more[i - 1] = last[i].LeaseToken;
                var reply = await d.AskAsync<CompletedBatch>(new Complete(last[0].LeaseToken, more));
                if (reply.Refusals.FirstOrDefault(r => r is not null) is { } refused) throw new ConduitRejectedException(refused);
                return;
            }
            var asks = new Task[last.Length];
            for (var i = 0; i < last.Length; i++) asks[i] = d.AskAsync<Completed>(new Complete(last[i].LeaseToken));
            await Task.WhenAll(asks);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

public sealed class ConduitRejectedException(Rejected rejected) : Exception(rejected.ToString())
{
    public Rejected Rejected { get; } = rejected;
}

internal static class Retry
{
    /// <summary>Overloaded means "back off and try again": a producer faster than the journal sees it under load.</summary>
    public static async Task OnOverloaded(Func<Task> action)
    {
        for (var delay = 5; ; delay = Math.Min(delay * 2, 200))
        {
            try
            {
                await action();
                return;
            }
            catch (ConduitRejectedException e) when (e.Rejected.Code == ErrorCode.Overloaded)
            {
                Counters.Overloaded.Increment();
                await Task.Delay(delay);
            }
        }
    }
}
