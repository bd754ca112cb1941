namespace Conduit.Server.Diagnostics;

/// <summary>
/// At most one line per key per interval; the lines held back in between are counted and reported with the next one.
/// Keys are few and fixed by the caller (a category, or a category and an actor path), so the table stays small.
/// </summary>
internal sealed class LogThrottle(TimeSpan interval, int maxKeys = 10_000)
{
    private readonly Dictionary<string, (DateTime Last, int Held)> _keys = new();

    /// <summary>Whether a line for <paramref name="key"/> may be written at <paramref name="now"/>, and how many were held back since the last one.</summary>
    public bool Allow(string key, DateTime now, out int heldBack)
    {
        heldBack = 0;
        if (_keys.TryGetValue(key, out var state) && now - state.Last < interval)
        {
            _keys[key] = state with { Held = state.Held + 1 };
            return false;
        }
        if (_keys.Count >= maxKeys) _keys.Clear();
        heldBack = state.Held;
        _keys[key] = (now, 0);
        return true;
    }
}
