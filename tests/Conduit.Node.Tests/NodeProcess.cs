using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Conduit.Node.Tests;

/// <summary>The built <c>Conduit.Node</c> run as a real process, its output collected line by line.</summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _stdout = new();
    private readonly object _gate = new();

    private NodeProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_gate)
            {
                _output.AppendLine(e.Data);
                _stdout.AppendLine(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_gate) _output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Output { get { lock (_gate) return _output.ToString(); } }
    /// <summary>What the node wrote to stdout only.</summary>
    public string StandardOutput { get { lock (_gate) return _stdout.ToString(); } }
    public int Id => _process.Id;

    public static string NodeDll() => Conduit.Testing.BuiltProgram.Dll("src/Conduit.Node", "Conduit.Node.dll");

    public static NodeProcess Start(params string[] args) => Start(new Dictionary<string, string>(), args);

    /// <summary>
    /// Starts the node with these environment variables set (<c>CONDUIT_*</c>, as a container gets them). Its HTTP listener
    /// takes a free port (<c>--http-port 0</c>) unless the arguments or the environment name one: test nodes run side by side.
    /// </summary>
    public static NodeProcess Start(IReadOnlyDictionary<string, string> environment, params string[] args) => StartIn(null, environment, args);

    /// <summary>Starts the node in <paramref name="workingDirectory"/> (where it also reads an <c>appsettings.json</c>), with these environment variables.</summary>
    public static NodeProcess StartIn(string? workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null) info.WorkingDirectory = workingDirectory;
        info.ArgumentList.Add(NodeDll());
        foreach (var a in args) info.ArgumentList.Add(a);
        // Test nodes run side by side: the HTTP listener takes a free port unless the test names one or turns it off.
        string[] httpNames = ["CONDUIT_HTTP_PORT", "CONDUIT__HTTP__PORT", "CONDUIT__HTTP__DISABLED"];
        if (!args.Contains("--http-port") && !args.Contains("--no-http") && !args.Contains("--help") && !httpNames.Any(environment.ContainsKey))
        {
            info.ArgumentList.Add("--http-port");
            info.ArgumentList.Add("0");
        }
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (name, value) in environment) info.Environment[name] = value;
        return new NodeProcess(Process.Start(info)!);
    }

    /// <summary>The HTTP listener's address, from the node's start-up line (waits for it).</summary>
    public async Task<Uri> HttpAddress(int timeoutMs = 60_000)
    {
        await WaitForOutput("HTTP on http://", timeoutMs);
        var match = System.Text.RegularExpressions.Regex.Match(Output, @"HTTP on (http://[^\s]+)");
        return new Uri(match.Groups[1].Value);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async Task WaitForOutput(string text, int timeoutMs = 60_000)
    {
        var watch = Stopwatch.StartNew();
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited) throw new InvalidOperationException($"the node exited ({_process.ExitCode}) before printing '{text}':\n{Output}");
            if (watch.ElapsedMilliseconds > timeoutMs) throw new TimeoutException($"no '{text}' in:\n{Output}");
            await Task.Delay(50);
        }
    }

    /// <summary>kill -9: SIGKILL, no shutdown of any kind; returns once the process is gone.</summary>
    public async Task KillHard()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>Ctrl-C: SIGINT to the process.</summary>
    public async Task<int> InterruptAndWait(int timeoutMs = 60_000)
    {
        using (var kill = Process.Start("kill", ["-INT", _process.Id.ToString()])) await kill.WaitForExitAsync();
        return await WaitForExit(timeoutMs);
    }

    public async Task<int> WaitForExit(int timeoutMs = 60_000)
    {
        using var cts = new CancellationTokenSource(timeoutMs);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
