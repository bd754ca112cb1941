using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Conduit.Bench.Drivers;

namespace Conduit.Bench;

/// <summary>The run's shared pieces: the node process, the drivers, the probe, the report, and timed measurement.</summary>
public sealed class Bench(BenchConfig config) : IAsyncDisposable
{
    public BenchConfig Config { get; } = config.NodePort == 0 ? config with { NodePort = FreePort() } : config;
    public Report Report { get; } = new();
    public PgProbe Probe { get; } = new(config);
    public NodeProcess? Node { get; private set; }
    /// <summary>Conduit over plain remoting: the driver every scenario uses.</summary>
    public IQueueDriver Conduit { get; private set; } = null!;
    /// <summary>Conduit through the typed ConduitClient, measured next to it in scenario 2.</summary>
    public IQueueDriver? ConduitClient { get; private set; }
    /// <summary>The baseline, one task per claim and <see cref="BenchConfig.ClaimSize"/> per claim (same table, same driver).</summary>
    public SkipLockedDriver Baseline { get; private set; } = null!;

    public string NodeLog => Path.Combine(Config.OutDir, "node.log");

    /// <summary>
    /// Nodes whose CPU the measurements count, each separately and summed: the scale scenario's own nodes while it runs
    /// (set with <see cref="UseNodes"/>), otherwise <see cref="Node"/>.
    /// </summary>
    public IReadOnlyList<NodeProcess> MeasuredNodes => _nodes ?? (Node is { } n ? [n] : []);
    private IReadOnlyList<NodeProcess>? _nodes;

    /// <summary>Measure these nodes (and read journal events from <paramref name="database"/>); null: back to the bench's node.</summary>
    public void UseNodes(IReadOnlyList<NodeProcess>? nodes, string database = "conduit")
    {
        _nodes = nodes;
        Probe.JournalDatabase = database;
    }

    private IReadOnlyList<int> NodePids() => MeasuredNodes.Select(n => n.Pid).ToArray();

    public static void Progress(string text) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {text}");

    public async Task StartAsync()
    {
        Directory.CreateDirectory(Config.OutDir);
        await Probe.CreateDatabasesAsync();
        await SkipLockedDriver.CreateSchemaAsync(Config.BaselineConnectionString);
        Baseline = new SkipLockedDriver(Config.BaselineConnectionString, "SKIP LOCKED", Config.BaselinePollInterval);
        await StartNodeAsync();
    }

    public async Task StartNodeAsync()
    {
        Node = await NodeProcess.StartAsync(Config, NodeLog);
        Conduit = await ConduitRemotingDriver.ConnectAsync(Node.Port);
        ConduitClient = await ConduitClientDriver.ConnectAsync(Node.Port);
    }

    /// <summary>Stops the node (Ctrl-C) and drops the client, whose remote refs point at the old incarnation.</summary>
    public async Task<TimeSpan> StopNodeAsync()
    {
        var watch = Stopwatch.StartNew();
        if (Node is null) return TimeSpan.Zero; // stopped already (scenario 5 stops it when it is done with it)
        await Conduit.DisposeAsync();
        if (ConduitClient is not null) await ConduitClient.DisposeAsync();
        ConduitClient = null;
        if (Node is not null)
        {
            await Node.StopAsync();
            await Node.DisposeAsync();
        }
        Node = null;
        return watch.Elapsed;
    }

    /// <summary>Runs <paramref name="body"/> (which returns tasks done), recording time, CPU split and what reached PostgreSQL.</summary>
    public async Task<Measured> Measure(string label, Func<Task<long>> body)
    {
        var before = await Probe.ReadAsync();
        using var trace = StartTrace(label);
        var cpu = CpuMeter.Start(NodePids, Config.PostmasterPid);
        var watch = Stopwatch.StartNew();
        var tasks = await body();
        var seconds = watch.Elapsed.TotalSeconds;
        var use = cpu.Stop();
        var after = await Probe.ReadAsync();
        var m = new Measured(label, tasks, seconds, use, after.JournalEvents - before.JournalEvents,
            after.Commits - before.Commits, after.WalBytes - before.WalBytes);
        Progress($"{label}: {tasks} tasks in {seconds:0.0} s = {m.Rate:N0}/s; {use}; events {m.JournalEvents}, commits {m.Commits}");
        return m;
    }

    /// <summary>
    /// Profiling hook: with CONDUIT_BENCH_PERF=DIR (and optionally CONDUIT_BENCH_PERF_MATCH=text), a measurement whose
    /// label contains the text runs <c>perf record -g</c> on the node process for 5 s into DIR (the node writes a
    /// perf map so JIT-compiled frames have names: <c>perf report -i FILE --no-children</c>).
    /// </summary>
    private Process? StartTrace(string label)
    {
        var dir = Environment.GetEnvironmentVariable("CONDUIT_BENCH_PERF");
        var match = Environment.GetEnvironmentVariable("CONDUIT_BENCH_PERF_MATCH") ?? "Conduit drain";
        if (dir is null || Node is null || !label.Contains(match, StringComparison.Ordinal)) return null;
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, new string(label.Select(c => char.IsLetterOrDigit(c) ? c : '-').ToArray()) + ".perf.data");
        var delay = Environment.GetEnvironmentVariable("CONDUIT_BENCH_PERF_DELAY") ?? "0";
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-c", $"sleep {delay}; exec perf record -F 499 -g -p {Node.Pid} -o {file} -- sleep 5" })
            info.ArgumentList.Add(a);
        Progress($"perf on the node into {file}");
        return Process.Start(info);
    }

    /// <summary>
    /// Memory hook: with CONDUIT_BENCH_DUMP=DIR, a heap dump of the node at the named moment (scenario 5 after Conduit's
    /// enqueue) goes into DIR by <c>dotnet-dump collect --type Heap</c>; read it with
    /// <c>dotnet-dump analyze FILE -c "dumpheap -stat"</c>. The tool is not part of the repository
    /// (<c>dotnet tool install -g dotnet-dump</c>).
    /// </summary>
    public async Task DumpNodeAsync(string moment)
    {
        var dir = Environment.GetEnvironmentVariable("CONDUIT_BENCH_DUMP");
        if (dir is null || Node is null) return;
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, $"node-{moment}.dmp");
        var info = new ProcessStartInfo("dotnet-dump") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "collect", "-p", Node.Pid.ToString(), "--type", "Heap", "-o", file }) info.ArgumentList.Add(a);
        using var dump = Process.Start(info)!;
        await dump.WaitForExitAsync();
        Progress($"heap dump of the node into {file}: exit {dump.ExitCode}");
    }

    /// <summary>Measures a drain, with its own clock (a drain may stop on its cap before the backlog is gone).</summary>
    public async Task<Measured> MeasureDrain(string label, Func<Task<(long Done, TimeSpan Elapsed)>> body)
    {
        double seconds = 0;
        var m = await Measure(label, async () =>
        {
            var (done, elapsed) = await body();
            seconds = elapsed.TotalSeconds;
            return done;
        });
        return m with { Seconds = seconds };
    }

    /// <summary>
    /// The machine is shared: in a full run, before a heavy measurement, wait (up to 30 s) while other processes
    /// (not the node, PostgreSQL or this bench) keep more than half a core busy. The load average would count our own
    /// previous measurement.
    /// </summary>
    public async Task WaitForQuietAsync()
    {
        if (Config.Quick) return;
        for (var i = 0; i < 10; i++)
        {
            var meter = CpuMeter.Start(NodePids, Config.PostmasterPid);
            await Task.Delay(1000);
            var other = meter.Stop().Other;
            if (other < 50) return;
            Progress($"other processes use {other:0}% of a core: waiting for the machine to be quieter");
            await Task.Delay(2000);
        }
    }

    /// <summary>Starts a node process of its own (not <see cref="Node"/>); its output goes to node-NAME.log.</summary>
    public Task<NodeProcess> StartExtraNodeAsync(NodeOptions options) =>
        NodeProcess.StartAsync(Config, Path.Combine(Config.OutDir, $"node-{options.Name}.log"), options);

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        try { await StopNodeAsync(); } catch (Exception e) { Progress($"stopping the node: {e.Message}"); }
    }
}
