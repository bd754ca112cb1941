using Akka.Actor;

namespace Conduit.Server.Gateway;

/// <summary>
/// A poll asked of the cluster on a client's behalf: the client is answered by the timeout whatever happens
/// (<see cref="ErrorCode.Unavailable"/> when the cluster has not answered), and the ask goes on for a grace period
/// longer: tasks handed out after the client was answered are released back to their partitions
/// (<see cref="ReleaseTasks"/>: ready again at once, no attempt used), so they are not leased to nobody until their lease
/// runs out.
/// </summary>
internal static class PollAsk
{
    /// <param name="target">The frontend the poll is asked of; releases go there too.</param>
    /// <param name="answer">Called exactly once, with the reply or the refusal, by <paramref name="timeout"/>.</param>
    /// <param name="done">Called once the ask is over (answered or given up after the grace).</param>
    public static void Run(IActorRef target, IClientRequest poll, TimeSpan timeout, TimeSpan grace, Action<object> answer, Action done)
    {
        var once = new OneAnswer();
        var deadline = new CancellationTokenSource();
        Task.Delay(timeout, deadline.Token).ContinueWith(_ =>
            {
                if (once.TryTake()) answer(GatewayActor.NoAnswer(null, timeout));
            },
            CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        target.Ask<object>(poll, timeout + grace).ContinueWith(t =>
            {
                deadline.Cancel();
                deadline.Dispose();
                done();
                if (once.TryTake()) answer(t.IsCompletedSuccessfully ? t.Result : GatewayActor.NoAnswer(t, timeout));
                else if (t.IsCompletedSuccessfully && t.Result is Polled { Tasks.Length: > 0 } late) Release(target, late);
            },
            TaskContinuationOptions.ExecuteSynchronously);
    }

    /// <summary>Gives the tasks of a poll nobody waits for any more back to their partitions, one request per partition.</summary>
    public static void Release(IActorRef frontend, Polled late)
    {
        foreach (var group in late.Tasks.GroupBy(t => LeaseToken.TryParse(t.LeaseToken, out var l) ? l.Task.Partition.EntityId : ""))
            if (group.Key.Length > 0)
                frontend.Ask<object>(new ReleaseTasks(group.Select(t => t.LeaseToken).ToArray()), RequestGate.DefaultAnswerTimeout)
                    .ContinueWith(t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
    }

    /// <summary>Whoever takes it first answers the client; the other does not.</summary>
    private sealed class OneAnswer
    {
        private int _taken;

        public bool TryTake() => Interlocked.Exchange(ref _taken, 1) == 0;
    }
}
