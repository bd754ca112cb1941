using System.Globalization;

namespace Conduit.Samples;

/// <summary>The samples' command line: <c>--server host:port</c>, <c>--queue NAME</c>, <c>--count N</c>.</summary>
internal sealed record SampleArguments(string Server, string Queue, int Count)
{
    public const string DefaultQueue = "samples";

    public static string Usage(string program, string countMeaning) =>
        $"""
        Usage: {program} [--server host:port] [--queue NAME] [--count N]
          --server   a Conduit node (default {Client.ConduitClientOptions.DefaultServer}, env CONDUIT_SERVER)
          --queue    the queue (default {DefaultQueue})
          --count    {countMeaning}
        """;

    /// <summary>Parses <paramref name="args"/>; null (after printing why) when they are wrong.</summary>
    public static SampleArguments? Parse(string[] args, int defaultCount, string usage)
    {
        var server = Environment.GetEnvironmentVariable("CONDUIT_SERVER") is { Length: > 0 } env ? env : Client.ConduitClientOptions.DefaultServer;
        var queue = DefaultQueue;
        var count = defaultCount;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--server" when value is not null: server = value; i++; break;
                case "--queue" when value is not null: queue = value; i++; break;
                case "--count" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out count): i++; break;
                default:
                    Console.Error.WriteLine($"error: unexpected '{args[i]}'{(value is null ? "" : $" {value}")}");
                    Console.Error.WriteLine(usage);
                    return null;
            }
        }
        return new SampleArguments(server, queue, count);
    }
}
