using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Conduit.Cli.Tests;

/// <summary>What one run of the CLI printed and returned.</summary>
public sealed record CliResult(string[] Args, int ExitCode, string Out, string Err, TimeSpan Elapsed)
{
    /// <summary>stdout parsed as the one JSON document <c>--json</c> promises.</summary>
    public JsonElement Json => JsonDocument.Parse(Out).RootElement;

    /// <summary>The whitespace-split cells of the table row whose first cell is <paramref name="first"/>.</summary>
    public string[] Row(string first) =>
        Out.Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).FirstOrDefault(c => c.Length > 0 && c[0] == first)
        ?? throw new Xunit.Sdk.XunitException($"no row '{first}' in:\n{this}");

    /// <summary>The whitespace-split cells of the table row whose first cells are <paramref name="first"/>.</summary>
    public string[] RowStartingWith(params string[] first) =>
        Out.Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).FirstOrDefault(c => c.Length >= first.Length && c[..first.Length].SequenceEqual(first))
        ?? throw new Xunit.Sdk.XunitException($"no row '{string.Join(' ', first)}' in:\n{this}");

    public override string ToString() => $"conduit {string.Join(' ', Args)} -> exit {ExitCode} in {Elapsed.TotalSeconds:0.0}s\n--- stdout ---\n{Out}--- stderr ---\n{Err}";
}

/// <summary>The built <c>conduit</c> CLI (src/Conduit.Cli) run as a real process, stdout and stderr redirected (so: no colour, no progress bar).</summary>
public static class CliProcess
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);

    public static string CliDll() => Conduit.Testing.BuiltProgram.Dll("src/Conduit.Cli", "conduit.dll");

    public static Task<CliResult> Run(params string[] args) => Run(null, args);

    public static Task<CliResult> Run(IDictionary<string, string>? environment, params string[] args) => RunWithInput(environment, null, args);

    /// <summary>Runs the CLI with <paramref name="stdin"/> as its standard input (closed right after; none when null).</summary>
    public static async Task<CliResult> RunWithInput(IDictionary<string, string>? environment, string? stdin, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(CliDll());
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var variable in new[] { "CONDUIT_SERVER", "CONDUIT_API_KEY", "CONDUIT_TLS_CERT", "CONDUIT_TLS_CERT_PASSWORD", "CONDUIT_TLS_CA" }) info.Environment.Remove(variable);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) info.Environment[k] = v;
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        if (stdin is not null) await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(Limit);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"conduit {string.Join(' ', args)} did not exit within {Limit}");
        }
        return new CliResult(args, process.ExitCode, await stdout, await stderr, watch.Elapsed);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
