using System.Diagnostics;

namespace Conduit.Testing;

/// <summary>Retries an assertion until it holds or the time is up (AwaitAssert for async code); never a fixed sleep.</summary>
public static class Eventually
{
    public static async Task Holds(Func<Task> assertion, int timeoutMs = 10_000, int intervalMs = 20)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await assertion();
                return;
            }
            catch (Exception) when (watch.ElapsedMilliseconds < timeoutMs)
            {
                await Task.Delay(intervalMs);
            }
        }
    }
}
