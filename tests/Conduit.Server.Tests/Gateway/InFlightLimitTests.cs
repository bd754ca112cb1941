using Conduit.Protocol;
using Conduit.Server.Gateway;
using Xunit;

namespace Conduit.Server.Tests.Gateway;

/// <summary>The gateway's admission of requests into the cluster (<see cref="InFlightLimit"/>), with a clock the test moves.</summary>
public sealed class InFlightLimitTests
{
    private long _now = 1_000;

    private InFlightLimit Limit(GatewayOptions options) => new(options, () => _now);

    [Fact(DisplayName = "each kind of request has its own bound: enqueues at theirs do not keep polls or completes out")]
    public void KindsHaveTheirOwnBounds()
    {
        var limit = Limit(new GatewayOptions
        {
            MaxEnqueuesInFlight = 3, MinEnqueuesInFlight = 1, InitialEnqueuesInFlight = 3, MaxPollsInFlight = 2, MaxOtherRequestsInFlight = 2,
        });
        Assert.All(Enumerable.Range(0, 3), _ => Assert.True(limit.TryTake(InFlightLimit.Kind.Enqueue) >= 0));
        Assert.Equal(-1, limit.TryTake(InFlightLimit.Kind.Enqueue));
        Assert.Equal(3, limit.InFlight(InFlightLimit.Kind.Enqueue)); // a refusal takes nothing
        Assert.True(limit.TryTake(InFlightLimit.KindOf(new Poll("q", 1, 1000))) >= 0);
        Assert.True(limit.TryTake(InFlightLimit.KindOf(new Complete("t"))) >= 0);
        Assert.Equal(ErrorCode.Overloaded, limit.Refusal(InFlightLimit.Kind.Enqueue).Code);

        limit.Give(InFlightLimit.Kind.Enqueue, _now);
        Assert.True(limit.TryTake(InFlightLimit.KindOf(new EnqueueBatch("q", []))) >= 0); // a place came free
    }

    [Fact(DisplayName = "the enqueue bound grows by one per answer within the target and halves (once per period) on a slower one")]
    public void EnqueueBoundAdaptsToLatency()
    {
        var limit = Limit(new GatewayOptions
        {
            MaxEnqueuesInFlight = 1000, MinEnqueuesInFlight = 10, InitialEnqueuesInFlight = 100, EnqueueLatencyTarget = TimeSpan.FromSeconds(1),
        });
        var taken = Enumerable.Range(0, 100).Select(_ => limit.TryTake(InFlightLimit.Kind.Enqueue)).ToList();
        Assert.All(taken, t => Assert.True(t >= 0));
        Assert.Equal(-1, limit.TryTake(InFlightLimit.Kind.Enqueue));

        _now += 200;
        foreach (var t in taken.Take(50)) limit.Give(InFlightLimit.Kind.Enqueue, t); // answered within the target
        Assert.Equal(150, limit.EnqueueLimit);

        _now += 4_000;
        foreach (var t in taken.Skip(50)) limit.Give(InFlightLimit.Kind.Enqueue, t); // 4.2 s: slower than the target
        Assert.Equal(75, limit.EnqueueLimit); // halved once, however many slow answers came in that period
        Assert.Contains("4.2 s", limit.Refusal(InFlightLimit.Kind.Enqueue).Message);

        var slow = limit.TryTake(InFlightLimit.Kind.Enqueue);
        _now += 3_000;
        limit.Give(InFlightLimit.Kind.Enqueue, slow); // a period later, slow again
        Assert.Equal(37, limit.EnqueueLimit);
        for (var i = 0; i < 20; i++)
        {
            slow = limit.TryTake(InFlightLimit.Kind.Enqueue);
            _now += 2_000;
            limit.Give(InFlightLimit.Kind.Enqueue, slow);
        }
        Assert.Equal(10, limit.EnqueueLimit); // never below the minimum

        for (var i = 0; i < 5; i++) limit.Give(InFlightLimit.Kind.Enqueue, limit.TryTake(InFlightLimit.Kind.Enqueue));
        Assert.Equal(15, limit.EnqueueLimit); // fast answers let more in again
    }
}
