using System.Diagnostics;
using System.Text;

namespace Conduit.Client.Tests;

/// <summary>A built sample (<c>samples/NAME</c>) run as a real process to its exit, its output collected.</summary>
public static class SampleProcess
{
    public sealed record Result(int ExitCode, string Output);

    public static string Dll(string name) => Conduit.Testing.BuiltProgram.Dll(Path.Combine("samples", name), name + ".dll");

    /// <summary>The sample's own settings from the environment (<c>SampleArguments</c>): never inherited from the test run.</summary>
    private static readonly string[] SampleVariables =
        ["CONDUIT_SERVER", "CONDUIT_NAMESPACE", "CONDUIT_API_KEY", "CONDUIT_TLS_CERT", "CONDUIT_TLS_CERT_PASSWORD", "CONDUIT_TLS_CA"];

    public static Task<Result> RunAsync(string name, TimeSpan timeout, params string[] args) => RunAsync(name, timeout, null, args);

    public static async Task<Result> RunAsync(string name, TimeSpan timeout, IDictionary<string, string>? environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Dll(name));
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var variable in SampleVariables) info.Environment.Remove(variable);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) info.Environment[k] = v;
        var output = new StringBuilder();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            lock (output) throw new TimeoutException($"{name} did not exit within {timeout}:\n{output}");
        }
        process.WaitForExit(); // drains the output handlers
        lock (output) return new Result(process.ExitCode, output.ToString());
    }
}
