using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Event;
using Akka.Hosting.Logging;
using Conduit.Protocol;
using Conduit.Server.Diagnostics;
using Conduit.Server.Management;
using Conduit.Testing;
using Microsoft.Extensions.Logging;
using Xunit;
using MelLogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace Conduit.Server.Tests.Diagnostics;

/// <summary>
/// Akka's log through <see cref="NodeLogger"/> into Microsoft.Extensions.Logging: categories, structured fields of
/// partitions, tasks and operator actions, and the flood protection in front.
/// </summary>
public sealed class StructuredLogTests : IAsyncLifetime
{
    private readonly CapturingProvider _captured = new();
    private ActorSystem _system = null!;

    public Task InitializeAsync()
    {
        var factory = LoggerFactory.Create(b => b.SetMinimumLevel(MelLogLevel.Debug).AddProvider(_captured));
        var config = ConfigurationFactory.ParseString($"""
            akka.loglevel = DEBUG
            akka.loggers = ["{typeof(NodeLogger).FullName}, {typeof(NodeLogger).Assembly.GetName().Name}"]
            """);
        _system = ActorSystem.Create("structured-log", BootstrapSetup.Create().WithConfig(config).And(new LoggerFactorySetup(factory)));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _system.Terminate();

    [Fact(DisplayName = "an operator's purge is logged with who did it, the action, the namespace and the queue as fields, the requester escaped")]
    public async Task OperatorAction()
    {
        var log = Logging.GetLogger(_system, typeof(OperatorAudit));
        OperatorAudit.Log(log, new Requester("ops\u001b[31m", "akka.tcp://conduit-cli@10.0.0.1:40000"), new PurgeQueue("emails", "billing"));
        var entry = await _captured.Single(e => e.Message.Contains("purged queue"));
        Assert.Equal(MelLogLevel.Warning, entry.Level);
        Assert.Equal(typeof(OperatorAudit).FullName, entry.Category);
        Assert.Equal("purged", entry.Fields["Action"]);
        Assert.Equal("billing", entry.Fields["Namespace"]);
        Assert.Equal("emails", entry.Fields["Queue"]);
        var who = Assert.IsType<string>(entry.Fields["Requester"]);
        Assert.StartsWith("ops", who);
        Assert.DoesNotContain("\u001b", who, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b", entry.Message, StringComparison.Ordinal);
        Assert.Contains("Operator ops", entry.Message);
    }

    [Fact(DisplayName = "a schedule save refused at the namespace's limit is logged as a warning with who asked, the schedule and why, escaped")]
    public async Task ScheduleRefused()
    {
        var log = Logging.GetLogger(_system, typeof(Conduit.Server.Scheduling.ScheduleAudit));
        var put = new PutSchedule("nightly\u001b[2J", new ScheduleSpec("q", new TaskSpec([1]), IntervalMs: 60_000), "billing",
            new Requester("ops\u001b[31m", "akka.tcp://conduit-cli@10.0.0.1:40000"));
        Conduit.Server.Scheduling.ScheduleAudit.Refused(log, put, new Rejected(ErrorCode.QuotaExceeded, "namespace billing has 2 schedules"));
        var entry = await _captured.Single(e => e.Message.Contains("was refused saving schedule"));
        Assert.Equal(MelLogLevel.Warning, entry.Level);
        Assert.Contains("Operator ops", entry.Message);
        Assert.Contains("schedule billing/nightly", entry.Message);
        Assert.Contains("QuotaExceeded namespace billing has 2 schedules", entry.Message);
        Assert.DoesNotContain("\u001b", entry.Message, StringComparison.Ordinal);
    }

    [Fact(DisplayName = "a line naming a task id carries the task, its partition, queue and namespace as fields")]
    public async Task TaskFields()
    {
        Assert.True(TaskId.TryParse("billing/emails#2:17", out var task), "a task id of billing/emails#2");
        OperatorAudit.Log(Logging.GetLogger(_system, typeof(OperatorAudit)), new Requester("ops", "here"), new CancelTask(task.ToString()));
        var entry = await _captured.Single(e => e.Message.Contains("cancelled task"));
        Assert.Equal(task.ToString(), entry.Fields["TaskId"]);
        Assert.Equal("billing/emails#2", entry.Fields["Partition"]);
        Assert.Equal(("billing", "emails"), (entry.Fields["Namespace"], entry.Fields["Queue"]));
    }

    [Fact(DisplayName = "a partition's line carries Partition, Queue and Namespace; the template is kept as {OriginalFormat}")]
    public async Task PartitionFields()
    {
        var log = Logging.GetLogger(_system, "partition-test");
        log.Info("Partition {Partition} recovered at event {SequenceNr}", new PartitionId("default", "thumbs", 3), 42L);
        var entry = await _captured.Single(e => e.Message.Contains("recovered at event 42"));
        Assert.Equal("default/thumbs#3", entry.Fields["Partition"]);
        Assert.Equal(("default", "thumbs"), (entry.Fields["Namespace"], entry.Fields["Queue"]));
        Assert.Equal(42L, entry.Fields["SequenceNr"]);
        Assert.Equal("Partition {Partition} recovered at event {SequenceNr}", entry.Fields["{OriginalFormat}"]);
    }

    [Fact(DisplayName = "a line naming a client's system leaves out its random part: in the message, the source, the fields and the cause, in flood lines too")]
    public async Task ClientNamesRedacted()
    {
        var name = Conduit.Protocol.Remoting.ClientSystemName.New(WireNames.ClientLibrarySystemName);
        var secret = name[(WireNames.ClientLibrarySystemName.Length + 1)..];
        var address = new Address("akka.tcp", name, "web-1-3fa2c1", 40000);
        var source = $"akka.tcp://conduit@10.0.0.1:4053/system/endpointManager/reliableEndpointWriter-{Uri.EscapeDataString(address.ToString())}-1";
        Exception cause;
        try { throw new InvalidOperationException($"Association with {address} failed"); }
        catch (Exception e) { cause = e; }
        _system.EventStream.Publish(new Error(cause, source, typeof(NodeLoggerTests), $"Association to [{address}] having UID [7] is irrecoverably failed"));
        Logging.GetLogger(_system, "client-test").Warning("Dropped the connection of {Client}", address);
        _system.EventStream.Publish(new Error(new System.Net.Sockets.SocketException(10054), "TcpServerHandler (akka://structured-log)",
            typeof(NodeLoggerTests), $"Error caught channel of {new string('.', 235)}{address}"));
        await _captured.Single(e => e.Message.Contains("Error caught channel"));
        await _captured.Single(e => e.Message.Contains("Dropped the connection"));
        var failed = await _captured.Single(e => e.Message.Contains("irrecoverably failed"));

        // The flood line is cut at 300 characters, in the middle of the random part were it not left out first.
        Assert.Equal(3, _captured.Entries.Count(e => e.Message.Contains("akka.tcp://conduit-client@web-1")));
        Assert.Contains("conduit-client@web-1-3fa2c1:40000 failed", failed.Exception!.ToString());
        Assert.Contains("InvalidOperationException", failed.Exception!.ToString());
        foreach (var entry in _captured.Entries)
        {
            Assert.DoesNotContain(secret[..8], entry.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(secret[..8], entry.Exception?.ToString() ?? "", StringComparison.Ordinal);
            foreach (var (field, value) in entry.Fields)
                Assert.False(value?.ToString()?.Contains(secret[..8], StringComparison.Ordinal) == true, $"{field} shows the random part");
        }
    }

    [Fact(DisplayName = "a burst of refused connections reaches the logger factory as one line without a stack trace, flagged as a flood")]
    public async Task Flood()
    {
        for (var i = 0; i < 50; i++)
            _system.EventStream.Publish(new Error(new System.Net.Sockets.SocketException(10054), "TcpServerHandler (akka://structured-log)", typeof(NodeLoggerTests),
                $"Error caught channel {i}\n   at Somewhere()"));
        _system.EventStream.Publish(new Info("marker", typeof(NodeLoggerTests), "after the burst"));
        await _captured.Single(e => e.Message.Contains("after the burst"));
        var flood = Assert.Single(_captured.Entries, e => e.Message.Contains("Error caught channel"));
        Assert.Null(flood.Exception);
        Assert.Equal("connection", flood.Fields["Flood"]);
        Assert.DoesNotContain("Somewhere", flood.Message);
    }

    [Fact(DisplayName = "the system's log filters (LogFilterSetup) hold back what they exclude before the logger factory")]
    public async Task Filters()
    {
        var captured = new CapturingProvider();
        var factory = LoggerFactory.Create(b => b.AddProvider(captured));
        var config = ConfigurationFactory.ParseString($"""akka.loggers = ["{typeof(NodeLogger).FullName}, {typeof(NodeLogger).Assembly.GetName().Name}"]""");
        var filters = new LogFilterBuilder().ExcludeMessageContaining("region drop").Build();
        var system = ActorSystem.Create("filtered-log", BootstrapSetup.Create().WithConfig(config).And(new LoggerFactorySetup(factory)).And(filters));
        try
        {
            var log = Logging.GetLogger(system, "filter-test");
            log.Warning("a region drop line");
            log.Warning("a line that stays");
            await captured.Single(e => e.Message.Contains("a line that stays"));
            Assert.DoesNotContain(captured.Entries, e => e.Message.Contains("region drop"));
        }
        finally
        {
            await system.Terminate();
        }
    }

    private sealed record Entry(string Category, MelLogLevel Level, string Message, Exception? Exception, IReadOnlyDictionary<string, object?> Fields);

    private sealed class CapturingProvider : ILoggerProvider
    {
        public ConcurrentQueue<Entry> Entries { get; } = new();

        public async Task<Entry> Single(Func<Entry, bool> match)
        {
            await Eventually.Holds(() =>
            {
                Assert.Contains(Entries, e => match(e));
                return Task.CompletedTask;
            });
            return Assert.Single(Entries, e => match(e));
        }

        public ILogger CreateLogger(string categoryName) => new Capturing(this, categoryName);
        public void Dispose() { }

        private sealed class Capturing(CapturingProvider provider, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(MelLogLevel logLevel) => true;

            public void Log<TState>(MelLogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var fields = state is IEnumerable<KeyValuePair<string, object?>> pairs ? pairs.ToDictionary(p => p.Key, p => p.Value) : new Dictionary<string, object?>();
                provider.Entries.Enqueue(new Entry(category, logLevel, formatter(state, exception), exception, fields));
            }
        }
    }
}
