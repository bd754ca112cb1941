using Akka.Event;
using Conduit.Server.Matching;
using Conduit.Server.Persistence;
using Xunit;
using static Conduit.Server.Tests.Matching.EngineHarness;

namespace Conduit.Server.Tests.Matching;

/// <summary>What a partition writes to the node's log about recoveries and outages (<see cref="PartitionLog"/>).</summary>
public sealed class PartitionLogTests
{
    private readonly RecordingLog _lines = new();
    private long _clock;
    private int _made;

    private PartitionLog NewLog(bool debug = false)
    {
        _lines.Debug = debug;
        return new PartitionLog(Id, _lines, () =>
        {
            _made++;
            return _lines;
        }, () => _clock);
    }

    private static DurablePartitionState State(long events)
    {
        var state = new DurablePartitionState();
        for (var n = 1; n <= events; n++)
            state.Apply(new PartitionBatch { Entries = [BatchEntry.Of(EntryKind.OwnerEpochStarted, atMs: n)] }, n);
        return state;
    }

    [Fact(DisplayName = "a new partition's recovery writes no line at info level and makes no logger; one with history writes one")]
    public void NewPartitionsAreQuiet()
    {
        NewLog().Recovered(State(0));
        Assert.Empty(_lines.Lines);
        Assert.Equal(0, _made);

        NewLog(debug: true).Recovered(State(0));
        Assert.Equal(LogLevel.DebugLevel, Assert.Single(_lines.Lines).Level);

        _lines.Lines.Clear();
        NewLog().Recovered(State(2));
        var line = Assert.Single(_lines.Lines);
        Assert.Equal(LogLevel.InfoLevel, line.Level);
        Assert.Contains("recovered at event 2", line.Text);
    }

    [Fact(DisplayName = "an outage is a warning when it starts, not at every retry, and its end says how long it lasted")]
    public void OutagesStartAndEndOnce()
    {
        var log = NewLog();
        log.Unavailable("disk full", 500);
        _clock = 2_500;
        log.Unavailable("disk full", 500);
        log.RecoveryWaitOver(1_000);
        Assert.Equal(LogLevel.WarningLevel, Assert.Single(_lines.Lines).Level);

        _clock = 4_000;
        log.Recovered(State(1));
        Assert.Contains(_lines.Lines, l => l.Level == LogLevel.InfoLevel && l.Text.Contains("serves again after 4 s unavailable"));

        // The next outage is news again, and a recovery without one says nothing of it.
        _lines.Lines.Clear();
        log.RecoveryWaitOver(1_000);
        Assert.Contains("has not recovered within 1000 ms", Assert.Single(_lines.Lines).Text);
        log.Recovered(State(1));
        _lines.Lines.Clear();
        log.Recovered(State(1));
        Assert.DoesNotContain(_lines.Lines, l => l.Text.Contains("serves again"));
    }

    private sealed class RecordingLog() : LoggingAdapterBase(DefaultLogMessageFormatter.Instance)
    {
        public List<(LogLevel Level, string Text)> Lines { get; } = [];
        public bool Debug { get; set; }
        public override bool IsDebugEnabled => Debug;
        public override bool IsInfoEnabled => true;
        public override bool IsWarningEnabled => true;
        public override bool IsErrorEnabled => true;
        /// <summary>The line as the node's logger renders it: each {Name} of the template replaced by its value.</summary>
        protected override void NotifyLog(LogLevel logLevel, object message, Exception? cause = null)
        {
            var log = (LogMessage)message;
            var text = log.Format;
            foreach (var (name, value) in log.PropertyNames.Zip(log.Parameters()))
                text = text.Replace("{" + name + "}", Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
            Lines.Add((logLevel, text));
        }
    }
}
