using Akka.Actor;
using Akka.TestKit.Xunit2;
using Conduit.Server.Matching;
using Xunit;

namespace Conduit.Server.Tests.Matching;

public sealed class UnansweredAppendsTests() : TestKit("akka.loglevel = WARNING")
{
    [Fact(DisplayName = "requesters beyond what the writer answered are the orphans; appends nobody waits on count but are never answered")]
    public void Orphans()
    {
        var (a, b, c) = (CreateTestProbe().Ref, CreateTestProbe().Ref, CreateTestProbe().Ref);
        var appends = new UnansweredAppends();
        appends.Add(a);      // 1
        appends.Add(null);   // 2: a dispatch hint
        appends.Add(b);      // 3
        appends.Add(c);      // 4
        appends.Answered(2);
        Assert.Equal(2, appends.Count);
        Assert.Equal([c], appends.Orphaned(3));
        Assert.Equal(0, appends.Sent); // the next writer counts from the start
        appends.Add(a);
        Assert.Equal([a], appends.Orphaned(null));
    }
}
