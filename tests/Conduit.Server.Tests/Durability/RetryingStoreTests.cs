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
        public FlakyStore(int[] failures, IActorRef starts)
        {
            starts.Tell("started");
            ReceiveAny(request =>
            {
                if (Interlocked.Decrement(ref failures[0]) >= 0) Context.Stop(Self);
                else Sender.Tell($"done {request}");
            });
        }
    }

    private IActorRef Keeper(int failures, TimeSpan retry, out Akka.TestKit.TestProbe starts)
    {
        var probe = CreateTestProbe();
        var counter = new[] { failures };
        starts = probe;
        return Sys.ActorOf(RetryingStore.Props(Props.Create(() => new FlakyStore(counter, probe.Ref)), retry));
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

    [Fact(DisplayName = "answers go back in order to each asker; a request repeated before its answer is answered once")]
    public void OrderAndRepeats()
    {
        var keeper = Keeper(failures: 1, TimeSpan.FromMilliseconds(100), out _);
        var other = CreateTestProbe();
        keeper.Tell("a");
        keeper.Tell("a"); // the coordinator asking again after its own timeout
        keeper.Tell("b", other.Ref);
        ExpectMsg("done a");
        other.ExpectMsg("done b");
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
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
