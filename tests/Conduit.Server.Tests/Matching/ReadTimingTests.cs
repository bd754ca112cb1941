using Conduit.Protocol;
using Conduit.Server.Matching;
using Xunit;
using static Conduit.Server.Tests.Matching.EngineHarness;

namespace Conduit.Server.Tests.Matching;

/// <summary>Journal reads answered late: after a recovery, or after another read.</summary>
public sealed class ReadTimingTests
{
    [Fact(DisplayName = "a page read for an earlier incarnation of the partition is ignored: nothing is stranded and order holds")]
    public void StalePageAfterRecovery()
    {
        var h = new EngineHarness(new PartitionOptions { ReadyWindow = 4, ReadPageEvents = 1 });
        for (var i = 0; i < 20; i++) h.Enqueue($"t{i:00}");
        h.AutoRead = false;
        var first = h.Poll(max: 4);
        Assert.Equal(["t00", "t01", "t02", "t03"], first.Select(Text));
        foreach (var t in first) h.Call(new Complete(t.LeaseToken));
        while (h.Engine.WindowCount == 0) h.ServeOneRead(); // t04 joins the window, and the next read (from t05's event) is asked for
        var stale = Assert.IsType<ScanRequest>(Assert.Single(h.PendingReads));
        Assert.True(stale.FromSeqNr > h.Journal.First(e => e.Batch.Entries.Any(x => x.Task is { } t && System.Text.Encoding.UTF8.GetString(t.Payload) == "t04")).SeqNr);

        h.Restart(); // storage trouble: the partition recovers from the journal with a new engine
        h.Answer(stale); // the old read's page arrives only now

        h.AutoRead = true;
        h.Settle();
        var got = new List<string>();
        for (var i = 0; i < 40 && got.Count < 16; i++)
            foreach (var t in h.Poll(max: 5))
            {
                got.Add(Text(t));
                h.Call(new Complete(t.LeaseToken));
            }
        Assert.Equal(Enumerable.Range(4, 16).Select(i => $"t{i:00}"), got);
    }

    [Fact(DisplayName = "a page-in that reads tasks before the partition is told they are durable leaves them for the notice: none is stranded")]
    public void ScanOvertakesDurabilityNotice()
    {
        var h = new EngineHarness(new PartitionOptions { ReadyWindow = 4, ReadPageEvents = 4 });
        for (var i = 0; i < 10; i++) h.Enqueue($"t{i:00}");
        h.HoldNotices = true;
        for (var i = 10; i < 12; i++) h.Call(new Enqueue("q", Spec($"t{i:00}")));
        var got = new List<string>();
        void Take(int max)
        {
            foreach (var t in h.Poll(max))
            {
                got.Add(Text(t));
                h.Call(new Complete(t.LeaseToken));
            }
        }
        // The window (4) runs low twice; the second page-in reads on into t10, which the partition has not heard of,
        // and the window is full again when the notice comes.
        Take(4);
        Take(2);
        Assert.Equal(4, h.Engine.WindowCount);
        h.HoldNotices = false;
        h.ReleaseNotices();
        for (var i = 0; i < 20 && got.Count < 12; i++)
        {
            h.Advance(100);
            Take(4);
        }
        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"t{i:00}"), got);
        Assert.Equal(0, h.Engine.Stats().Ready);
    }
}
