using Akka.Actor;
using Conduit.Protocol;
using Conduit.Server.Hosting;
using Conduit.Server.Management;
using Xunit;

namespace Conduit.Server.Tests.Management;

/// <summary>The management actor answers a failed fan-out with Rejected: a Status.Failure would be refused on the wire.</summary>
public sealed class ManagementFailureTests() : Akka.TestKit.Xunit2.TestKit("""
    akka.loglevel = WARNING
    akka.actor.provider = cluster
    akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
    """)
{
    [Fact(DisplayName = "a shard region that does not answer makes management reply Rejected(Unavailable), not Status.Failure")]
    public void SilentRegionIsUnavailable()
    {
        var region = CreateTestProbe();
        var management = Sys.ActorOf(ManagementActor.Props(region.Ref, new ConduitServerOptions(),
            new ManagementOptions { FanOutTimeout = TimeSpan.FromMilliseconds(100) }));

        management.Tell(new GetLocalPartitions(), TestActor);

        var rejected = ExpectMsg<Rejected>(TimeSpan.FromSeconds(10));
        Assert.Equal(ErrorCode.Unavailable, rejected.Code);
        Assert.StartsWith("local partitions: ", rejected.Message);
    }
}
