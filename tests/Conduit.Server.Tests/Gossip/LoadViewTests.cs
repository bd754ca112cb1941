using Conduit.Protocol;
using Conduit.Server.Gossip;
using Xunit;

namespace Conduit.Server.Tests.Gossip;

/// <summary>The frontend's view of the nodes' gossiped load (one <see cref="NodeLoad"/> per node) and the routing choices made from it.</summary>
public sealed class LoadViewTests
{
    [Fact(DisplayName = "the nodes' entries are merged: a partition listed by none has no load, one listed by two counts as the newer entry says")]
    public void MergesNodeEntries()
    {
        var view = new LoadView();
        view.Update([
            new NodeLoad(["default/q#0", "default/q#1"], [5, 9], [0, 0], AtUnixMs: 100),
            new NodeLoad(["default/q#1", "default/q#2"], [0, 0], [0, 3], AtUnixMs: 200), // q#1 moved here and is empty now
        ]);
        Assert.Equal((5L, 0), view.Of("default", "q", 0));
        Assert.Equal((0L, 0), view.Of("default", "q", 1));
        Assert.Equal((0L, 3), view.Of("default", "q", 2));
        Assert.Equal((0L, 0), view.Of("default", "q", 3));
        Assert.Equal((0L, 0), view.Of("other", "q", 0));
        Assert.Equal([0], view.BusiestFirst("default", "q", 4));
        Assert.Equal(2, view.ForEnqueue("default", "q", 4)); // a waiting poller wins
    }

    [Fact(DisplayName = "an entry with missing or uneven arrays is read as far as it goes, never thrown on")]
    public void ToleratesMalformedEntries()
    {
        var view = new LoadView();
        view.Update([new NodeLoad(null!, null!, null!, 1), new NodeLoad(["default/q#0", "default/q#1"], [4], [0, 0], 1)]);
        Assert.Equal((4L, 0), view.Of("default", "q", 0));
        Assert.Equal((0L, 0), view.Of("default", "q", 1));
    }
}
