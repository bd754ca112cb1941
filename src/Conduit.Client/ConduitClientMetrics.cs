using System.Diagnostics;
using System.Diagnostics.Metrics;
using Conduit.Client.Worker;

namespace Conduit.Client;

/// <summary>
/// The client library's meter, <c>Conduit.Client</c>: every <see cref="ConduitClient"/> request and every
/// <see cref="ConduitWorker"/> handler of the process. Nothing is recorded until a listener enables it; add it to your
/// own OpenTelemetry setup with <c>.WithMetrics(m =&gt; m.AddMeter(ConduitClientMetrics.MeterName))</c>
/// (docs/metrics.md, "Client and worker"). Labels are bounded: request kinds and outcomes are fixed sets, queues are the
/// ones your workers serve.
/// </summary>
public static class ConduitClientMetrics
{
    public const string MeterName = "Conduit.Client";

    /// <summary>Counter, <c>{request}</c>: requests by <c>kind</c> (Enqueue, Poll, Complete...) and <c>outcome</c> (<c>ok</c>, an error code such as <c>overloaded</c>, <c>timeout</c>, <c>unreachable</c>, <c>cancelled</c>).</summary>
    public const string Requests = "conduit.client.requests";
    /// <summary>Histogram, s: a request's time from the call to its answer, backoff and resends after Overloaded included; labels as <see cref="Requests"/>.</summary>
    public const string RequestDuration = "conduit.client.request.duration";
    /// <summary>UpDownCounter, <c>{handler}</c>: handlers running now, by <c>queue</c>.</summary>
    public const string ActiveHandlers = "conduit.worker.handlers.active";
    /// <summary>Counter, <c>{task}</c>: deliveries a worker finished, by <c>queue</c> and <c>outcome</c> (completed, failed, cancelled, lease_lost, not_reported).</summary>
    public const string TasksHandled = "conduit.worker.tasks";
    /// <summary>Histogram, s: a handler's run time, by <c>queue</c> and <c>outcome</c>.</summary>
    public const string HandlerDuration = "conduit.worker.handler.duration";

    private static readonly Meter Meter = new(MeterName, typeof(ConduitClientMetrics).Assembly.GetName().Version?.ToString(3));
    private static readonly double[] Buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

    private static readonly Counter<long> RequestCount = Meter.CreateCounter<long>(Requests, "{request}", "Requests to the cluster by kind and outcome");
    private static readonly Histogram<double> RequestTime = Meter.CreateHistogram(RequestDuration, "s",
        "Time from a request's call to its answer, backoff after Overloaded included",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Buckets });
    private static readonly UpDownCounter<long> Active = Meter.CreateUpDownCounter<long>(ActiveHandlers, "{handler}", "Worker handlers running now");
    private static readonly Counter<long> Handled = Meter.CreateCounter<long>(TasksHandled, "{task}", "Deliveries a worker finished, by outcome");
    private static readonly Histogram<double> HandlerTime = Meter.CreateHistogram(HandlerDuration, "s", "A handler's run time, by outcome",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Buckets });

    internal static bool RequestsEnabled => RequestCount.Enabled || RequestTime.Enabled;

    internal static void Request(object message, string outcome, long startedAt)
    {
        var tags = new TagList { { "kind", KindOf(message) }, { "outcome", outcome } };
        RequestCount.Add(1, tags);
        if (RequestTime.Enabled) RequestTime.Record(Stopwatch.GetElapsedTime(startedAt).TotalSeconds, tags);
    }

    /// <summary>The outcome label of an answer: <c>ok</c>, or the refusal's error code in snake case.</summary>
    internal static string OutcomeOf(object reply) => reply is Rejected rejected ? Snake(rejected.Code.ToString()) : "ok";

    internal static void HandlerStarted(string queue) => Active.Add(1, new KeyValuePair<string, object?>("queue", queue));

    internal static void HandlerFinished(string queue, TaskOutcome outcome, TimeSpan took)
    {
        Active.Add(-1, new KeyValuePair<string, object?>("queue", queue));
        var tags = new TagList { { "queue", queue }, { "outcome", Snake(outcome.ToString()) } };
        Handled.Add(1, tags);
        HandlerTime.Record(took.TotalSeconds, tags);
    }

    private static string KindOf(object message) => message is KeyedRequest keyed && keyed.Request is { } inner ? inner.GetType().Name : message.GetType().Name;

    private static string Snake(string name)
    {
        var text = new System.Text.StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0) text.Append('_');
            text.Append(char.ToLowerInvariant(name[i]));
        }
        return text.ToString();
    }
}
