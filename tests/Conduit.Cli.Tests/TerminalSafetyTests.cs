using System.Text.Json;
using Xunit;

namespace Conduit.Cli.Tests;

/// <summary>
/// Text from the network (payloads, failure reasons, dead-letter reasons, error messages) must not act on the
/// operator's terminal: human output shows control characters as visible escapes, JSON output escapes them as JSON does.
/// </summary>
public sealed class TerminalSafetyTests(CliNodeFixture fixture) : IClassFixture<CliNodeFixture>
{
    /// <summary>Colour (CSI), a clipboard write (OSC 52, ended by BEL), a line break that would forge a line, and a C1 CSI.</summary>
    private const string Hostile = "\u001b[31mred\u001b]52;c;aGk=\u0007\r\n\u009b";
    /// <summary><see cref="Hostile"/> as the CLI shows it.</summary>
    private const string Escaped = @"\x1b[31mred\x1b]52;c;aGk=\x07\x0d\x0a\x9b";

    /// <summary>Nothing in <paramref name="text"/> a terminal would act on: no C0 but the line ends, no DEL, no C1.</summary>
    private static void TerminalSafe(string text, CliResult r)
    {
        foreach (var c in text)
            Assert.False(c < 0x20 && c != '\n' || c is >= '\u007f' and <= '\u009f', $"U+{(int)c:X4} reaches the terminal:\n{r}");
    }

    private static void Ok(CliResult r)
    {
        Assert.True(r.ExitCode == 0, r.ToString());
        TerminalSafe(r.Out, r);
        TerminalSafe(r.Err, r);
    }

    [Fact(DisplayName = "a hostile payload and failure reason show escaped in poll, fail, dlq list and task get")]
    public async Task HumanOutputIsEscaped()
    {
        var enqueued = await fixture.Cli("enqueue", "cli-hostile", "--payload", "task " + Hostile, "--max-attempts", "1", "--json");
        Assert.True(enqueued.ExitCode == 0, enqueued.ToString());
        var id = enqueued.Json.GetProperty("taskIds")[0].GetString()!;

        var polled = await fixture.Cli("poll", "cli-hostile", "--lease", "1m");
        Ok(polled);
        var row = polled.Row(id);
        var lease = row[4];
        Assert.StartsWith(id + ":", lease); // the lease token is whole: it can be copied into `fail`
        Assert.Contains(@"task \x1b[31mred\x1b]52;c;aGk=\x07 \x9b", polled.Out); // the preview still turns the line break into a space

        var failed = await fixture.Cli("fail", lease, "--reason", Hostile);
        Ok(failed);
        Assert.Contains("dead-lettered", failed.Out);

        var dead = await fixture.Cli("dlq", "list", "cli-hostile");
        Ok(dead);
        Assert.Equal(Escaped, dead.Row(id)[^1]);

        var task = await fixture.Cli("task", "get", id);
        Ok(task);
        Assert.Equal(["last", "error", Escaped], task.Row("last"));
        Assert.Equal(["status", "DeadLettered"], task.Row("status"));
    }

    [Fact(DisplayName = "--json keeps the exact text but escapes its control characters the JSON way")]
    public async Task JsonIsEscapedAndExact()
    {
        var enqueued = await fixture.Cli("enqueue", "cli-hostile-json", "--payload", Hostile, "--max-attempts", "1", "--json");
        Assert.True(enqueued.ExitCode == 0, enqueued.ToString());
        var id = enqueued.Json.GetProperty("taskIds")[0].GetString()!;

        var polled = await fixture.Cli("poll", "cli-hostile-json", "--lease", "1m", "--json");
        Ok(polled);
        var leased = polled.Json.GetProperty("tasks")[0];
        Assert.Equal(Hostile, leased.GetProperty("payload").GetString());
        Assert.Contains(@"\u001b[31mred", polled.Out, StringComparison.OrdinalIgnoreCase); // System.Text.Json writes \u001B

        Ok(await fixture.Cli("fail", leased.GetProperty("leaseToken").GetString()!, "--reason", Hostile, "--json"));
        var dead = await fixture.Cli("dlq", "list", "cli-hostile-json", "--json");
        Ok(dead);
        Assert.Equal(Hostile, dead.Json.GetProperty("items")[0].GetProperty("reason").GetString());
        var task = await fixture.Cli("task", "get", id, "--json");
        Ok(task);
        Assert.Equal(Hostile, task.Json.GetProperty("lastError").GetString());
    }

    [Fact(DisplayName = "error messages on stderr are escaped too, and the JSON error keeps the text")]
    public async Task ErrorsAreEscaped()
    {
        var usage = await fixture.Cli("task", "get", "x" + Hostile);
        Assert.Equal(2, usage.ExitCode);
        TerminalSafe(usage.Err, usage);
        Assert.Contains(@"'x\x1b[31mred", usage.Err);
        Assert.Contains("--help` for usage", usage.Err);

        var json = await fixture.Cli("task", "get", "x" + Hostile, "--json");
        Assert.Equal(2, json.ExitCode);
        TerminalSafe(json.Out, json);
        Assert.Contains("x" + Hostile, json.Json.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(JsonValueKind.Object, json.Json.GetProperty("error").ValueKind);
    }
}
