using System.Collections.Concurrent;
using Conduit.Client;
using Conduit.Protocol;
using Xunit;

namespace Conduit.Client.Tests;

public sealed class CompletionBatcherTests
{
    private static string Token(int partition, int seq) => $"default/q#{partition}:{seq * 16 + 5}:1:1:{seq + 100}";

    [Fact(DisplayName = "completions that arrive while one is in flight go out together in the next request, each with its own answer")]
    public async Task BatchesWhileInFlight()
    {
        var sent = new ConcurrentQueue<Complete>();
        var gates = new ConcurrentQueue<TaskCompletionSource<object>>();
        var batcher = new CompletionBatcher(c =>
        {
            sent.Enqueue(c);
            var gate = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
            gates.Enqueue(gate);
            return gate.Task;
        });

        var first = batcher.CompleteAsync(Token(0, 1));
        Assert.Single(sent); // an idle lane sends at once
        var rest = Enumerable.Range(2, 5).Select(i => batcher.CompleteAsync(Token(0, i))).ToList();
        Assert.Single(sent); // the others wait for the one in flight

        Assert.True(gates.TryDequeue(out var g1));
        g1.SetResult(new Completed("x"));
        Assert.Null(await first);
        await Eventually(() => sent.Count == 2);
        var second = sent.ElementAt(1);
        Assert.Equal(Token(0, 2), second.LeaseToken);
        Assert.Equal(Enumerable.Range(3, 4).Select(i => Token(0, i)), second.MoreLeaseTokens!);

        Assert.True(gates.TryDequeue(out var g2));
        var refusal = new Rejected(ErrorCode.UnknownLease, "already completed");
        g2.SetResult(new CompletedBatch([null, refusal, null, null, null]));
        var answers = await Task.WhenAll(rest);
        Assert.Equal(new Rejected?[] { null, refusal, null, null, null }.AsEnumerable(), answers);
    }

    [Fact(DisplayName = "different partitions complete independently, and a failed request fails only its own completions")]
    public async Task LanesPerPartition()
    {
        var batcher = new CompletionBatcher(c => c.LeaseToken.Contains("#1:")
            ? Task.FromException<object>(new ConduitTimeoutException("no answer", new TimeoutException()))
            : Task.FromResult<object>(new Completed("x")));
        var ok = batcher.CompleteAsync(Token(0, 1));
        var failing = batcher.CompleteAsync(Token(1, 1));
        Assert.Null(await ok);
        await Assert.ThrowsAsync<ConduitTimeoutException>(() => failing);
        await Assert.ThrowsAsync<ConduitTimeoutException>(() => batcher.CompleteAsync(Token(1, 2))); // the lane is not stuck
    }

    private static async Task Eventually(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++) await Task.Delay(10);
        Assert.True(condition());
    }
}
