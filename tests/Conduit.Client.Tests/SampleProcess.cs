using System.Diagnostics;
using System.Text;

namespace Conduit.Client.Tests;

/// <summary>A built sample (<c>samples/NAME</c>) run as a real process to its exit, its output collected.</summary>
public static class SampleProcess
{
    public sealed record Result(int ExitCode, string Output);

    public static string Dll(string name)
    {
        // tests/Conduit.Client.Tests/bin/<Configuration>/net10.0/ -> samples/<name>/bin/<Configuration>/net10.0/
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = here.Parent!.Name;
        var root = here.Parent.Parent!.Parent!.Parent!.Parent!.FullName;
        var dll = Path.Combine(root, "samples", name, "bin", configuration, here.Name, name + ".dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"build samples/{name} first", dll);
    }

    public static async Task<Result> RunAsync(string name, TimeSpan timeout, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Dll(name));
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
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
