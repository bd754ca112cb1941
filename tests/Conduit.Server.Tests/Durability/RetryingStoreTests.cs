using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.TestKit.Xunit2;
using Conduit.Server.Hosting;
using Xunit;

namespace Conduit.Server.Tests.Durability;

/// <summary>
/// The keeper of sharding's remember-entities stores (<see cref="RetryingStore"/>): a request the store dies on is sent
/// again to a new store, so the shard or coordinator that asked gets its answer once the database is back.
/// </summary>
public sealed class RetryingStoreTests() : TestKit("akka.loglevel = WARNING")
{
    /// <summary>A store that dies on its first <paramref name="failures"/> requests (counted across incarnations) and echoes the rest.</summary>
    private sealed class FlakyStore : ReceiveActor
    {
        /// <param name="stopAfterAnswer">Stops right after each answer (a store that fails while nobody waits on it).</param>
        public FlakyStore(int[] failures, IActorRef starts, bool stopAfterAnswer)
        {
            starts.Tell("started");
            ReceiveAny(request =>
            {
                if (Interlocked.Decrement(ref failures[0]) >= 0)
                {
                    if (request is "throw") throw new InvalidOperationException("a bug in the store");
                    Context.Stop(Self);
                }
                else
                {
                    Sender.Tell($"done {request}");
                    if (stopAfterAnswer) Context.Stop(Self);
                }
            });
        }
    }

    private IActorRef Keeper(int failures, TimeSpan retry, out Akka.TestKit.TestProbe starts, bool stopAfterAnswer = false)
    {
        var probe = CreateTestProbe();
        var counter = new[] { failures };
        starts = probe;
        // A child of the test actor: the keeper answers its parent.
        return ChildActorOf(RetryingStore.Props(Props.Create(() => new FlakyStore(counter, probe.Ref, stopAfterAnswer)), retry));
    }

    [Fact(DisplayName = "a store that stopped while nobody waited on it is started again for the next request")]
    public void IdleStopRestarts()
    {
        var keeper = Keeper(failures: 0, TimeSpan.FromMilliseconds(200), out var starts, stopAfterAnswer: true);
        starts.ExpectMsg("started");
        keeper.Tell("a");
        ExpectMsg("done a");
        keeper.Tell("b"); // reaches the stopped store (lost) or a new one: either way it is answered
        starts.ExpectMsg("started");
        ExpectMsg("done b");
    }

    [Fact(DisplayName = "a request the store stops on reaches a new store after the retry interval, and its answer reaches whoever asked")]
    public void RetriesAfterTheStoreStops()
    {
        var keeper = Keeper(failures: 2, TimeSpan.FromMilliseconds(200), out var starts);
        starts.ExpectMsg("started");
        keeper.Tell("load");
        starts.ExpectMsg("started"); // the first store died on it: a second one gets it again
        starts.ExpectMsg("started"); // and a third
        ExpectMsg("done load");
        keeper.Tell("update");
        ExpectMsg("done update");
        starts.ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // a store that answers is kept
    }

    [Fact(DisplayName = "a store that throws on a request is replaced, not restarted in place, and the new one gets the request")]
    public void ThrowingStoreIsReplaced()
    {
        var keeper = Keeper(failures: 1, TimeSpan.FromMilliseconds(200), out var starts);
        starts.ExpectMsg("started");
        keeper.Tell("throw");
        starts.ExpectMsg("started");
        ExpectMsg("done throw");
    }

    [Fact(DisplayName = "a request repeated while the store is down is sent once, when it is back; repeated to a live store, it is sent again")]
    public async Task Repeats()
    {
        var keeper = Keeper(failures: 1, TimeSpan.FromSeconds(1), out var starts);
        Task<RetryingStore.State> State() => keeper.Ask<RetryingStore.State>(RetryingStore.Inspect.Instance, TimeSpan.FromSeconds(3));
        starts.ExpectMsg("started");
        keeper.Tell("a");
        await AwaitAssertAsync(async () => Assert.Equal(new RetryingStore.State(false, 1), await State()));
        keeper.Tell("a"); // the coordinator asking again: the restart sends the first ask
        Assert.Equal(new RetryingStore.State(false, 1), await State());
        starts.ExpectMsg("started");
        ExpectMsg("done a");
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        keeper.Tell("b");
        keeper.Tell("b"); // to a live store, which may have lost the first
        ExpectMsg("done b");
        ExpectMsg("done b");
        Assert.Equal(new RetryingStore.State(true, 0), await State());
    }

    [Fact(DisplayName = "the provider finds Akka's event-sourced stores (internal in Akka.Cluster.Sharding) as it expects them")]
    public void ProviderMatchesAkka()
    {
        var settings = ClusterShardingSettings.Create(ClusterSharding.DefaultConfig().GetConfig("akka.cluster.sharding"),
            Akka.Cluster.Tools.Singleton.ClusterSingleton.DefaultConfig().GetConfig("akka.cluster.singleton"));
        var provider = new RetryingRememberEntitiesProvider(settings, "partitions");
        Assert.NotNull(provider.ShardStoreProps("17"));
        Assert.NotNull(provider.CoordinatorStoreProps());
    }
}
