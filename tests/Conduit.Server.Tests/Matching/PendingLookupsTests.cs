using Conduit.Protocol;
using Conduit.Server.Matching;
using Xunit;

namespace Conduit.Server.Tests.Matching;

public sealed class PendingLookupsTests
{
    private static readonly GetTask Get = new("default/q#0:16");

    [Fact(DisplayName = "a page answers exactly the lookups that asked for its read, in the order they came")]
    public void ByRead()
    {
        var lookups = new PendingLookups();
        var first = new FetchRequest([5], ForLookup: true);
        var second = new FetchRequest([5], ForLookup: true); // same event, another read
        var a = new Lookup("a", Get, 16, first);
        var b = new Lookup("b", Get, 16, second);
        var c = new Lookup("c", Get, 32, first);
        lookups.Add(a);
        lookups.Add(b);
        lookups.Add(c);

        Assert.Equal([a, c], lookups.WaitingFor(first));
        foreach (var lookup in lookups.WaitingFor(first)) Assert.True(lookups.Remove(lookup));
        Assert.Equal([b], lookups.All);
        Assert.Empty(lookups.WaitingFor(first));
    }

    [Fact(DisplayName = "lookups are bounded: the table is full at its limit and has room again after one leaves")]
    public void Bounded()
    {
        var lookups = new PendingLookups();
        var read = new FetchRequest([1], ForLookup: true);
        for (var i = 0; i < PendingLookups.Limit; i++)
        {
            Assert.False(lookups.IsFull);
            lookups.Add(new Lookup(i, Get, 16, read));
        }
        Assert.True(lookups.IsFull);
        lookups.Remove(lookups.All.First());
        Assert.False(lookups.IsFull);
        lookups.Clear();
        Assert.Equal(0, lookups.Count);
    }
}
