using Conduit.Client;
using Conduit.Protocol;

namespace Conduit.Bench.Drivers;

/// <summary>
/// Conduit through the typed <see cref="ConduitClient"/> (attached to the node's client endpoint), as an
/// application uses it: one client shared by every producer and worker. A worker completes a poll in one request
/// (<see cref="Complete"/> with <c>MoreLeaseTokens</c>, sent with <see cref="ConduitClient.RequestAsync{TReply}"/>).
/// </summary>
public sealed class ConduitClientDriver : IQueueDriver
{
    private readonly ConduitClient _client;

    private ConduitClientDriver(ConduitClient client) => _client = client;

    public string Name => "Conduit (ConduitClient)";

    /// <summary>The client, for workloads that use it directly (<see cref="Workloads.DrainWithWorkers"/>).</summary>
    public ConduitClient Client => _client;

    public static async Task<ConduitClientDriver> ConnectAsync(int port)
    {
        var client = new ConduitClient(new ConduitClientOptions { Servers = [$"127.0.0.1:{port}"], RequestTimeout = TimeSpan.FromSeconds(60) });
        for (var i = 0; i < 300 && !client.IsConnected; i++) await Task.Delay(100);
        // The node may accept connections before its cluster is up: ask until a request goes through.
        for (var i = 0; ; i++)
        {
            try
            {
                await client.GetQueueStatsAsync("bench-connect");
                return new ConduitClientDriver(client);
            }
            catch (ConduitException) when (i < 30) { await Task.Delay(500); }
            catch (TimeoutException) when (i < 30) { await Task.Delay(500); }
        }
    }

    public Task<IProducer> OpenProducerAsync() => Task.FromResult<IProducer>(new Producer(_client));
    public Task<IWorker> OpenWorkerAsync(int claimSize) => Task.FromResult<IWorker>(new Worker(_client, claimSize));
    public ValueTask DisposeAsync() => _client.DisposeAsync();

    private static async Task OnOverloaded(Func<Task> action)
    {
        for (var delay = 5; ; delay = Math.Min(delay * 2, 200))
        {
            try { await action(); return; }
            catch (OverloadedException) { Counters.Overloaded.Increment(); await Task.Delay(delay); }
        }
    }

    private sealed class Producer(ConduitClient c) : IProducer
    {
        public Task EnqueueAsync(string queue, byte[] payload) => OnOverloaded(() => c.EnqueueAsync(queue, payload));
        public Task EnqueueBatchAsync(string queue, byte[][] payloads) => OnOverloaded(() => c.EnqueueBatchAsync(queue, payloads));
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class Worker(ConduitClient c, int claimSize) : IWorker
    {
        private IReadOnlyList<ConduitTask> _last = [];

        public async Task<IReadOnlyList<byte[]>> PollAsync(string queue, TimeSpan wait, CancellationToken ct)
        {
            _last = await c.PollAsync(queue, claimSize, wait, cancellationToken: ct);
            return _last.Select(t => t.Payload).ToArray();
        }

        public async Task CompleteAllAsync()
        {
            var last = _last;
            _last = [];
            if (last.Count == 0) return;
            if (last.Count == 1) { await c.CompleteAsync(last[0].LeaseToken); return; }
            var reply = await c.RequestAsync<CompletedBatch>(new Complete(last[0].LeaseToken, last.Skip(1).Select(t => t.LeaseToken).ToArray()));
            if (reply.Refusals.FirstOrDefault(r => r is not null) is { } refused) throw new ConduitRejectedException(refused);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
