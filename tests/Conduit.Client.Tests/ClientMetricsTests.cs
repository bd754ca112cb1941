using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Conduit.Client.Worker;
using Conduit.Testing;

namespace Conduit.Client.Tests;

/// <summary>The <c>Conduit.Client</c> meter is process-wide: these tests run alone, so what they count is their own.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClientMetricsCollection
{
    public const string Name = "client metrics";
}

/// <summary>The client library's meter, read with a <see cref="MeterListener"/> as an OpenTelemetry SDK would.</summary>
[Collection(ClientMetricsCollection.Name)]
public sealed class ClientMetricsTests(SqliteClientNodeFixture fixture) : IClassFixture<SqliteClientNodeFixture>
{
    private sealed class Recorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        public ConcurrentQueue<(string Instrument, double Value, Dictionary<string, string> Tags)> Measurements { get; } = new();

        public Recorder()
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == ConduitClientMetrics.MeterName) l.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((i, v, t, _) => Add(i, v, t));
            _listener.SetMeasurementEventCallback<double>((i, v, t, _) => Add(i, v, t));
            _listener.Start();
        }

        private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var copy = new Dictionary<string, string>();
            foreach (var tag in tags) copy[tag.Key] = tag.Value?.ToString() ?? "";
            Measurements.Enqueue((instrument.Name, value, copy));
        }

        public double Sum(string instrument, params (string Key, string Value)[] tags) =>
            Measurements.Where(m => m.Instrument == instrument && tags.All(t => m.Tags.GetValueOrDefault(t.Key) == t.Value)).Sum(m => m.Value);

        public int Count(string instrument, params (string Key, string Value)[] tags) =>
            Measurements.Count(m => m.Instrument == instrument && tags.All(t => m.Tags.GetValueOrDefault(t.Key) == t.Value));

        public void Dispose() => _listener.Dispose();
    }

    [Fact(DisplayName = "the client counts its requests by kind and outcome (refusals by error code) and times each one")]
    public async Task RequestsByKindAndOutcome()
    {
        using var recorder = new Recorder();
        var q = "m-" + Guid.NewGuid().ToString("N")[..12];
        for (var i = 0; i < 3; i++) await fixture.Client.EnqueueAsync(q, $"task {i}");
        await Assert.ThrowsAsync<TaskNotFoundException>(() => fixture.Client.GetTaskAsync($"default/{q}#0:999999"));
        var polled = await fixture.Client.PollAsync(q, 3, TimeSpan.FromSeconds(5));

        Assert.Equal(3, recorder.Sum(ConduitClientMetrics.Requests, ("kind", "Enqueue"), ("outcome", "ok")));
        Assert.Equal(1, recorder.Sum(ConduitClientMetrics.Requests, ("kind", "GetTask"), ("outcome", "task_not_found")));
        Assert.Equal(1, recorder.Sum(ConduitClientMetrics.Requests, ("kind", "Poll"), ("outcome", "ok")));
        Assert.Equal(3, polled.Count);
        // One duration per request, with the same labels.
        Assert.Equal(recorder.Count(ConduitClientMetrics.Requests), recorder.Count(ConduitClientMetrics.RequestDuration));
        Assert.Equal(3, recorder.Count(ConduitClientMetrics.RequestDuration, ("kind", "Enqueue")));
        Assert.All(recorder.Measurements.Where(m => m.Instrument == ConduitClientMetrics.RequestDuration), m => Assert.InRange(m.Value, 0, 30));
    }

    [Fact(DisplayName = "a worker counts the deliveries it handled by queue and outcome (one failure, then its retry completed), and its running handlers go up and back to zero")]
    public async Task WorkerCountsTasksByOutcome()
    {
        using var recorder = new Recorder();
        var q = "m-" + Guid.NewGuid().ToString("N")[..12];
        await fixture.Client.EnqueueBatchAsync(q, Enumerable.Range(0, 4).Select(i => new[] { (byte)i }));
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finished = 0;
        await using (var worker = new ConduitWorker(fixture.Client, q, (task, _) =>
                         task.Payload[0] == 0 && task.Attempt == 1 ? throw new InvalidOperationException("the first task fails once") : Task.CompletedTask,
                         new ConduitWorkerOptions { MaxConcurrency = 2, PollWait = TimeSpan.FromSeconds(1) }))
        {
            worker.TaskFinished += (_, _) => { if (Interlocked.Increment(ref finished) == 5) done.TrySetResult(); };
            worker.Start();
            await done.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }

        await Eventually.Holds(() =>
        {
            Assert.Equal(4, recorder.Sum(ConduitClientMetrics.TasksHandled, ("queue", q), ("outcome", "completed")));
            Assert.Equal(1, recorder.Sum(ConduitClientMetrics.TasksHandled, ("queue", q), ("outcome", "failed")));
            Assert.Equal(0, recorder.Sum(ConduitClientMetrics.ActiveHandlers, ("queue", q)));
            return Task.CompletedTask;
        });
        Assert.Equal(5, recorder.Sum(ConduitClientMetrics.ActiveHandlers, ("queue", q)) == 0 ? recorder.Count(ConduitClientMetrics.ActiveHandlers, ("queue", q)) / 2 : -1);
        Assert.Equal(5, recorder.Count(ConduitClientMetrics.HandlerDuration, ("queue", q)));
        Assert.Equal(1, recorder.Sum(ConduitClientMetrics.Requests, ("kind", "Fail"), ("outcome", "ok")));
        Assert.True(recorder.Sum(ConduitClientMetrics.Requests, ("kind", "Poll"), ("outcome", "ok")) >= 1);
        Assert.True(recorder.Sum(ConduitClientMetrics.Requests, ("kind", "Complete"), ("outcome", "ok")) >= 1);
    }
}
