using System.Globalization;
using Conduit.Protocol;
using Conduit.Testing;
using Xunit;

namespace Conduit.Cli.Tests;

/// <summary>The schedule commands against one real node: what they print, what they change, and who the node logs.</summary>
public sealed class ScheduleCommandTests(CliNodeFixture fixture) : IClassFixture<CliNodeFixture>
{
    private static void Ok(CliResult r) => Assert.True(r.ExitCode == 0, r.ToString());

    [Fact(DisplayName = "schedule add/list/get/pause/trigger/resume/delete: the schedule runs onto its queue, shows its next due times, and its deletion is logged with who asked")]
    public async Task Lifecycle()
    {
        var added = await fixture.Cli("schedule", "add", "cli-every", "--queue", "cli-sched", "--every", "1s", "--payload", "tick", "--json");
        Ok(added);
        Assert.Equal(("cli-every", 1000), (added.Json.GetProperty("name").GetString(), added.Json.GetProperty("spec").GetProperty("intervalMs").GetInt32()));
        Assert.Equal(5, added.Json.GetProperty("nextDueUnixMs").GetArrayLength());

        // The schedule fills its queue: a run is polled with its headers.
        await Eventually.Holds(async () =>
        {
            var polled = await fixture.Cli("poll", "cli-sched", "--wait", "2s", "--complete", "--json");
            Ok(polled);
            var task = Assert.Single(polled.Json.GetProperty("tasks").EnumerateArray());
            Assert.Equal("cli-every", task.GetProperty("headers").GetProperty(ScheduleSpec.ScheduleHeader).GetString());
        }, timeoutMs: 20_000, intervalMs: 100);

        var list = await fixture.Cli("schedule", "list");
        Ok(list);
        Assert.StartsWith("NAME", list.Out);
        var row = list.RowStartingWith("cli-every");
        Assert.Equal(["cli-every", "cli-sched", "every", "1s"], row[..4]);
        Assert.Equal("no", row[^1]);

        var paused = await fixture.Cli("schedule", "pause", "cli-every", "--json");
        Ok(paused);
        Assert.True(paused.Json.GetProperty("paused").GetBoolean());
        var triggered = await fixture.Cli("schedule", "trigger", "cli-every");
        Ok(triggered);
        Assert.Matches(@"^enqueued default/cli-sched#0:\d+\s*$", triggered.Out);
        var get = await fixture.Cli("schedule", "get", "cli-every", "--json");
        Ok(get);
        Assert.Equal(triggered.Out.Trim()["enqueued ".Length..], get.Json.GetProperty("lastTaskId").GetString());
        Ok(await fixture.Cli("schedule", "resume", "cli-every"));

        var deleted = await fixture.Cli("schedule", "delete", "cli-every");
        Ok(deleted);
        Assert.Equal("schedule cli-every deleted", deleted.Out.Trim());
        var gone = await fixture.Cli("schedule", "get", "cli-every");
        Assert.Equal(1, gone.ExitCode);
        Assert.StartsWith("ScheduleNotFound:", gone.Err);
        await Eventually.Holds(() =>
        {
            Assert.Contains(fixture.Log.Lines, l => l.Contains($"anonymous@akka.tcp://{WireNames.CliSystemName}@") && l.Contains("deleted schedule default/cli-every"));
            return Task.CompletedTask;
        });
    }

    [Fact(DisplayName = "schedule add with a cron expression in a time zone shows due times; a bad cron or both --cron and --every are refused")]
    public async Task CronAndRefusals()
    {
        var added = await fixture.Cli("schedule", "add", "cli-cron", "--queue", "cli-sched-cron", "--cron", "0 9 * * MON-FRI",
            "--tz", "Europe/Berlin", "--payload", "report", "--json");
        Ok(added);
        var berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        foreach (var due in added.Json.GetProperty("nextDueUnixMs").EnumerateArray())
        {
            var local = TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeMilliseconds(due.GetInt64()), berlin);
            Assert.Equal(9, local.Hour);
            Assert.NotEqual(DayOfWeek.Saturday, local.DayOfWeek);
            Assert.NotEqual(DayOfWeek.Sunday, local.DayOfWeek);
        }
        var shown = await fixture.Cli("schedule", "get", "cli-cron");
        Ok(shown);
        Assert.Contains("cron 0 9 * * MON-FRI Europe/Berlin", shown.Out);
        Assert.Contains("next: " + DateTimeOffset.FromUnixTimeMilliseconds(added.Json.GetProperty("nextDueUnixMs")[0].GetInt64()).UtcDateTime
            .ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture), shown.Out);
        Ok(await fixture.Cli("schedule", "delete", "cli-cron"));

        var bad = await fixture.Cli("schedule", "add", "cli-bad", "--queue", "q", "--cron", "61 * * * *", "--payload", "x");
        Assert.Equal(1, bad.ExitCode);
        Assert.StartsWith("InvalidArgument: invalid cron expression", bad.Err);
        var both = await fixture.Cli("schedule", "add", "cli-bad", "--queue", "q", "--cron", "* * * * *", "--every", "1m", "--payload", "x");
        Assert.Equal(2, both.ExitCode);
        Assert.Contains("--cron EXPR or --every DURATION", both.Err);
    }
}
