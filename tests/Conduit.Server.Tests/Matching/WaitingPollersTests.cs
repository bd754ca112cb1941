using Conduit.Server.Matching;
using Xunit;

namespace Conduit.Server.Tests.Matching;

public sealed class WaitingPollersTests
{
    [Fact(DisplayName = "waiting polls are served oldest first, each with its own id")]
    public void OldestFirst()
    {
        var pollers = new WaitingPollers();
        var a = pollers.Add("a", 1, 1000, 0);
        var b = pollers.Add("b", 2, 2000, 0);
        Assert.NotEqual(a.Id, b.Id);
        Assert.Equal(["a", "b"], pollers.All.Select(w => w.ReplyTo));
        Assert.Same(a, pollers.TakeOldest());
        Assert.False(pollers.Contains(a.Id));
        Assert.Same(b, pollers.TakeOldest());
        Assert.Equal(0, pollers.Count);
    }

    [Fact(DisplayName = "a wait removed by its id (its deadline passed) leaves the line and cannot be removed twice")]
    public void RemoveById()
    {
        var pollers = new WaitingPollers();
        var a = pollers.Add("a", 1, 1000, 0);
        var b = pollers.Add("b", 1, 1000, 0);
        Assert.True(pollers.TryRemove(a.Id, out var removed));
        Assert.Same(a, removed);
        Assert.False(pollers.TryRemove(a.Id, out _));
        Assert.Equal([b], pollers.All);
    }

    [Fact(DisplayName = "a wait is found by the frontend's poll id until it leaves, however it leaves")]
    public void FrontendId()
    {
        var pollers = new WaitingPollers();
        var a = pollers.Add("a", 1, 1000, frontendPollId: 77);
        var b = pollers.Add("b", 1, 1000, frontendPollId: 78);
        var c = pollers.Add("c", 1, 1000, frontendPollId: 0);
        Assert.True(pollers.TryFindByFrontendId(77, out var id));
        Assert.Equal(a.Id, id);
        Assert.False(pollers.TryFindByFrontendId(0, out _)); // no frontend id: not cancellable by one

        pollers.TakeOldest(); // a served
        Assert.False(pollers.TryFindByFrontendId(77, out _));
        pollers.TryRemove(b.Id, out _); // b timed out
        Assert.False(pollers.TryFindByFrontendId(78, out _));
        Assert.Equal([c], pollers.All);
    }

    [Fact(DisplayName = "clearing forgets every wait and its frontend id")]
    public void Clear()
    {
        var pollers = new WaitingPollers();
        var a = pollers.Add("a", 1, 1000, frontendPollId: 5);
        pollers.Clear();
        Assert.Equal(0, pollers.Count);
        Assert.False(pollers.Contains(a.Id));
        Assert.False(pollers.TryFindByFrontendId(5, out _));
        Assert.NotEqual(a.Id, pollers.Add("b", 1, 1000, 0).Id); // ids are never reused
    }
}
