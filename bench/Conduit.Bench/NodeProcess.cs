using System.Diagnostics;
using System.Text;

namespace Conduit.Bench;

/// <summary>How to start one node process; defaults are the bench's single node (both roles, database <c>conduit</c>).</summary>
public sealed record NodeOptions
{
    /// <summary>Client port (0 is not allowed here: the bench must know it).</summary>
    public required int Port { get; init; }
    /// <summary>Cluster port. Defaults to 0 (any free port): only a seed needs a known one.</summary>
    public int ClusterPort { get; init; }
    /// <summary>PostgreSQL database of the journal. Defaults to <c>conduit</c>.</summary>
    public string Database { get; init; } = "conduit";
    /// <summary>Partitions per queue. Defaults to 1.</summary>
    public int Partitions { get; init; } = 1;
    /// <summary><c>--roles</c>, or null for both. Defaults to null.</summary>
    public string? Roles { get; init; }
    /// <summary><c>--seed</c> addresses. Defaults to none (the node forms a cluster alone).</summary>
    public IReadOnlyList<string> Seeds { get; init; } = [];
    /// <summary>More node options, as given on its command line. Defaults to none.</summary>
    public IReadOnlyList<string> ExtraArgs { get; init; } = [];
    /// <summary>Shown in tables and the log. Defaults to "node".</summary>
    public string Name { get; init; } = "node";
}

/// <summary>A Conduit node (the Release-built Conduit.Node) run as a separate process on the bench's PostgreSQL.</summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly StringBuilder _recent = new();
    private readonly object _gate = new();

    private NodeProcess(Process process, StreamWriter log)
    {
        _process = process;
        _log = log;
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Pid => _process.Id;
    public int Port { get; private init; }
    public string Name { get; private init; } = "node";
    public Stopwatch SinceStart { get; } = Stopwatch.StartNew();

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_gate)
        {
            _log.WriteLine(line);
            _recent.AppendLine(line);
            if (_recent.Length > 200_000) _recent.Remove(0, 100_000);
        }
    }

    public string Output { get { lock (_gate) return _recent.ToString(); } }

    public static Task<NodeProcess> StartAsync(BenchConfig config, string logFile) =>
        StartAsync(config, logFile, new NodeOptions { Port = config.NodePort, Partitions = config.Partitions });

    public static async Task<NodeProcess> StartAsync(BenchConfig config, string logFile, NodeOptions options)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(config.NodeDll);
        foreach (var a in new[] { "--port", options.Port.ToString(), "--cluster-port", options.ClusterPort.ToString(),
                     "--postgres", config.ConduitConnectionStringFor(options.Database), "--partitions", options.Partitions.ToString(), "--http-port", "0" })
            info.ArgumentList.Add(a);
        if (options.Roles is { } roles) { info.ArgumentList.Add("--roles"); info.ArgumentList.Add(roles); }
        foreach (var seed in options.Seeds) { info.ArgumentList.Add("--seed"); info.ArgumentList.Add(seed); }
        foreach (var a in options.ExtraArgs) info.ArgumentList.Add(a);
        if (config.NodeHocon is { } hocon) { info.ArgumentList.Add("--hocon"); info.ArgumentList.Add(hocon); }
        // The baseline keeps nothing of a completed task (it deletes the row): the task history is off unless asked for (docs/results.md).
        info.ArgumentList.Add("--task-history-hours");
        info.ArgumentList.Add(config.TaskHistory ? "24" : "0");
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_gcServer"] = config.NodeServerGc ? "1" : "0";
        if (Environment.GetEnvironmentVariable("CONDUIT_BENCH_PERF") is not null)
        {
            // Profiling only: name JIT-compiled frames for perf (W^X double-mapping hides them from it).
            info.Environment["DOTNET_PerfMapEnabled"] = "1";
            info.Environment["DOTNET_EnableWriteXorExecute"] = "0";
        }
        var log = new StreamWriter(logFile, append: true) { AutoFlush = true };
        await log.WriteLineAsync($"---- start {options.Name} {DateTime.Now:O}: dotnet {string.Join(' ', info.ArgumentList)}");
        var node = new NodeProcess(Process.Start(info)!, log) { Port = options.Port, Name = options.Name };
        await node.WaitForOutputAsync("Conduit node listening on", TimeSpan.FromSeconds(90));
        return node;
    }

    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited) throw new InvalidOperationException($"the node exited ({_process.ExitCode}) before printing '{text}':\n{Output}");
            if (watch.Elapsed > timeout) throw new TimeoutException($"no '{text}' from the node in {timeout}:\n{Output}");
            await Task.Delay(20);
        }
    }

    /// <summary>Resident memory of the node process, from /proc.</summary>
    public long RssBytes() => ProcFs.RssBytes(_process.Id);

    /// <summary>
    /// SIGTERM (what a service manager sends; the host runs Akka's coordinated shutdown), then wait; killed after 60 s.
    /// Not SIGINT: a run started in the background (nohup, CI) hands its children an ignored SIGINT.
    /// </summary>
    public async Task StopAsync()
    {
        if (_process.HasExited) return;
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()])) await kill!.WaitForExitAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try { await _process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { _process.Kill(entireProcessTree: true); await _process.WaitForExitAsync(); }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        lock (_gate) _log.Dispose();
    }
}
