using Conduit.Server.Matching;
using Xunit;

namespace Conduit.Server.Tests.Matching;

public sealed class CounterSetTests
{
    [Fact(DisplayName = "counters settled out of order merge into few ranges")]
    public void MergesRanges()
    {
        var set = new CounterSet();
        foreach (var c in new long[] { 5, 1, 3, 2, 4, 9, 7, 8 }) set.Add(c);
        Assert.Equal([1L, 6L, 7L, 10L], set.ToPairs());
        Assert.True(set.Contains(3));
        Assert.False(set.Contains(6));
        Assert.Equal(6, set.FirstMissingFrom(1));
        set.Add(6);
        Assert.Equal(1, set.RangeCount);
        Assert.Equal(10, set.FirstMissingFrom(1));
    }

    [Fact(DisplayName = "adding a range swallows the ranges it covers")]
    public void AddRange()
    {
        var set = CounterSet.FromPairs([2, 3, 5, 6, 8, 9, 20, 21]);
        set.AddRange(1, 10);
        Assert.Equal([1L, 10L, 20L, 21L], set.ToPairs());
        Assert.False(set.Contains(10));
        Assert.Equal(10, set.FirstMissingFrom(4));
    }
}
