using Conduit.Protocol;
using Conduit.Server.Matching;
using Xunit;
using static Conduit.Server.Tests.Matching.EngineHarness;

namespace Conduit.Server.Tests.Matching;

/// <summary>What a partition keeps in memory stays within the bounds docs/backlog-paging.md states, however the work arrives.</summary>
public sealed class MemoryBoundTests
{
    [Fact(DisplayName = "many delayed tasks falling due at once come into memory a window at a time, and every one is delivered once")]
    public void DueTasksRespectTheWindow()
    {
        // Found by PartitionProperties: 73 tasks of one batch fell due together and all 73 came into a window of 4.
        var h = new EngineHarness(new PartitionOptions { ReadyWindow = 10 });
        var specs = Enumerable.Range(0, 1_000).Select(i => Spec($"t{i}", delayMs: 100)).ToArray();
        Assert.IsType<EnqueuedBatch>(h.Call(new EnqueueBatch("q", specs)));
        h.Advance(200);
        Assert.InRange(h.Engine.WindowCount, 1, 10 + 64);

        var got = new List<string>();
        for (var i = 0; i < 500 && got.Count < 1_000; i++)
        {
            foreach (var t in h.Poll(max: 7))
            {
                got.Add(Text(t));
                h.Call(new Complete(t.LeaseToken));
            }
            Assert.InRange(h.Engine.WindowCount, 0, 10 + 64);
            h.Advance(10);
        }
        Assert.Equal(specs.Select(s => System.Text.Encoding.UTF8.GetString(s.Payload)).Order(), got.Order());
        Assert.Equal(0, h.Engine.Stats().Ready);
    }
}
