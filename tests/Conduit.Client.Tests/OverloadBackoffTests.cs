using System.Collections.Concurrent;
using Conduit.Server.Gateway;
using Conduit.Server.Hosting;
using Conduit.Testing;

namespace Conduit.Client.Tests;

/// <summary>The client's backoff after Overloaded (<see cref="OverloadBackoff"/>), alone with a clock the test moves, and against a node whose edge lets one enqueue in at a time.</summary>
public sealed class OverloadBackoffTests
{
    private long _now = 10_000;

    [Fact(DisplayName = "after Overloaded a lane waits 100 ms doubling to 5 s, with jitter between half and all of it; another answer ends it")]
    public void ExponentialWithJitterAndBounded()
    {
        var backoff = new OverloadBackoff(new OverloadBackoffOptions(), () => _now, new Random(7));
        const string lane = "enqueue default/q";
        Assert.Equal(TimeSpan.Zero, backoff.WaitBefore(lane));
        var delays = Enumerable.Range(0, 10).Select(_ => backoff.Overloaded(lane).TotalMilliseconds).ToList();
        for (var i = 0; i < delays.Count; i++)
        {
            var full = Math.Min(5_000, 100 * Math.Pow(2, i));
            Assert.InRange(delays[i], full / 2, full);
        }
        Assert.True(backoff.WaitBefore(lane) > TimeSpan.Zero);
        Assert.Equal(TimeSpan.Zero, backoff.WaitBefore("other")); // other lanes are not held back

        _now += 10_000;
        backoff.Answered(lane);
        Assert.Equal(TimeSpan.Zero, backoff.WaitBefore(lane));
        Assert.InRange(backoff.Overloaded(lane).TotalMilliseconds, 50, 100); // starts from the first delay again
    }

    [Fact(DisplayName = "only requests a repeat cannot duplicate are resent: keyed enqueues yes, enqueues with a keyless task and polls no")]
    public void WhatIsResent()
    {
        var keyed = new TaskSpec([1], IdempotencyKey: "k");
        var keyless = new TaskSpec([1]);
        Assert.True(OverloadBackoff.MayResend(new Enqueue("q", keyed)));
        Assert.False(OverloadBackoff.MayResend(new Enqueue("q", keyless)));
        Assert.True(OverloadBackoff.MayResend(new EnqueueBatch("q", [keyed, keyed with { IdempotencyKey = "k2" }])));
        Assert.False(OverloadBackoff.MayResend(new EnqueueBatch("q", [keyed, keyless])));
        Assert.True(OverloadBackoff.MayResend(new Complete("lease")));
        Assert.False(OverloadBackoff.MayResend(new Poll("q", 1, 1000)));
        Assert.Null(OverloadBackoff.LaneOf(new Poll("q", 1, 1000)));
        Assert.NotEqual(OverloadBackoff.LaneOf(new Enqueue("a", keyed)), OverloadBackoff.LaneOf(new Enqueue("b", keyed)));
    }

    [Fact(DisplayName = "against a node that lets one enqueue in at a time: keyed enqueues are resent until they land, keyless ones throw OverloadedException")]
    public async Task ResendsKeyedEnqueuesOnly()
    {
        await using var node = await TestNode.StartAsync(new NodeSettings
        {
            Port = 0, ClusterPort = 0, Storage = TestStores.NewSqlite(),
            Server = new ConduitServerOptions
            {
                Partition = TestNode.FastPartitionOptions,
                Gateway = new GatewayOptions { MaxEnqueuesInFlight = 1, MinEnqueuesInFlight = 1, InitialEnqueuesInFlight = 1 },
            },
        });
        await using var client = ConduitClient.Connect(node.Server);
        await client.GetQueueStatsAsync("keyed");

        var keyed = await Task.WhenAll(Enumerable.Range(0, 5).Select(i =>
            client.EnqueueAsync("keyed", $"k{i}", new EnqueueOptions { IdempotencyKey = $"key-{i}" })));
        Assert.Equal(5, keyed.Select(e => e.TaskId).Distinct().Count());
        Assert.All(keyed, e => Assert.False(e.Duplicate));

        var outcomes = new ConcurrentBag<string>();
        await Task.WhenAll(Enumerable.Range(0, 20).Select(async i =>
        {
            try
            {
                await client.EnqueueAsync("keyless", $"n{i}");
                outcomes.Add("enqueued");
            }
            catch (OverloadedException)
            {
                outcomes.Add("overloaded");
            }
        }));
        Assert.Contains("overloaded", outcomes); // not resent: the caller decides
        Assert.Equal(20, outcomes.Count);
        var stats = await client.GetQueueStatsAsync("keyless");
        Assert.Equal(outcomes.Count(o => o == "enqueued"), stats.Ready); // exactly the acknowledged ones, no silent duplicates
    }
}
