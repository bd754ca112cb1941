using Akka.Actor;
using Xunit;

namespace Conduit.Server.Tests.Matching;

/// <summary>The timers an actor would hold: what is active, with its delay, and how often each was started; tests fire them by hand.</summary>
internal sealed class RecordingTimers : ITimerScheduler
{
    private readonly Dictionary<object, int> _starts = new();
    public Dictionary<object, (object Message, TimeSpan Delay, bool Periodic)> Active { get; } = new();

    public int Starts(object key) => _starts.GetValueOrDefault(key);

    /// <summary>A single timer fires: it is no longer active (a periodic one stays).</summary>
    public void Fire(object key)
    {
        Assert.True(Active.TryGetValue(key, out var timer), $"timer {key} is not active");
        if (!timer.Periodic) Active.Remove(key);
    }

    private void Start(object key, object msg, TimeSpan delay, bool periodic)
    {
        Active[key] = (msg, delay, periodic);
        _starts[key] = Starts(key) + 1;
    }

    public void StartPeriodicTimer(object key, object msg, TimeSpan interval) => Start(key, msg, interval, true);
    public void StartPeriodicTimer(object key, object msg, TimeSpan interval, IActorRef sender) => Start(key, msg, interval, true);
    public void StartPeriodicTimer(object key, object msg, TimeSpan initialDelay, TimeSpan interval) => Start(key, msg, interval, true);
    public void StartPeriodicTimer(object key, object msg, TimeSpan initialDelay, TimeSpan interval, IActorRef sender) => Start(key, msg, interval, true);
    public void StartSingleTimer(object key, object msg, TimeSpan timeout) => Start(key, msg, timeout, false);
    public void StartSingleTimer(object key, object msg, TimeSpan timeout, IActorRef sender) => Start(key, msg, timeout, false);
    public bool IsTimerActive(object key) => Active.ContainsKey(key);
    public IReadOnlyCollection<object> ActiveTimers => Active.Keys;
    public void Cancel(object key) => Active.Remove(key);
    public void CancelAll() => Active.Clear();
}
