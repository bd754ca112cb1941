using System.Text;

namespace Conduit.Server.Frontend;

/// <summary>FNV-1a over UTF-8: the same on every node and every run (unlike <see cref="string.GetHashCode()"/>).</summary>
public static class StableHash
{
    public static uint Of(string text)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash *= 16777619u;
        }
        return hash;
    }
}
