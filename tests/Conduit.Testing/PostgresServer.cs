using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Npgsql;
using Xunit;

namespace Conduit.Testing;

/// <summary>
/// A throw-away PostgreSQL 15 server for tests: a fresh cluster in a unique directory under /tmp,
/// listening on a free loopback port, with fsync on. When the process runs as root (initdb and
/// postgres refuse root), initdb and pg_ctl run as the <c>postgres</c> user via <c>runuser</c>.
/// <see cref="DisposeAsync"/> stops it with <c>pg_ctl -m immediate stop</c> and deletes the directory;
/// a process-exit hook does the same if the server was never disposed.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    public const string DefaultBinDirectory = "/usr/lib/postgresql/15/bin";
    public const string BinDirectoryVariable = "CONDUIT_PG_BIN";

    private const string OsUser = "postgres";
    private const int MaxStartAttempts = 3;
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private readonly string _binDirectory;
    private readonly bool _runAsPostgres;
    private readonly string _dataDirectory;
    private readonly string _socketDirectory;
    private readonly string _logFile;
    private readonly EventHandler _processExitHandler;
    private readonly List<string> _issuedConnectionStrings = new();
    private readonly List<PosixSignalRegistration> _signalRegistrations = new();
    private readonly object _gate = new();
    private bool _running;
    private int _disposed;

    private PostgresServer(string binDirectory, bool runAsPostgres, string baseDirectory)
    {
        _binDirectory = binDirectory;
        _runAsPostgres = runAsPostgres;
        BaseDirectory = baseDirectory;
        _dataDirectory = Path.Combine(baseDirectory, "data");
        _socketDirectory = Path.Combine(baseDirectory, "sock");
        _logFile = Path.Combine(baseDirectory, "postgres.log");
        _processExitHandler = (_, _) => StopAndCleanUpSynchronously();
        ConnectionString = string.Empty;
    }

    /// <summary>Connection string to database <c>postgres</c> as user <c>postgres</c> (pooled, at most 50).</summary>
    public string ConnectionString { get; private set; }

    /// <summary>The loopback TCP port the server listens on (127.0.0.1).</summary>
    public int Port { get; private set; }

    /// <summary>The temporary directory holding the cluster, its socket and its log; deleted on dispose.</summary>
    public string BaseDirectory { get; }

    /// <summary>Starts a fresh server; returns once a connection succeeds.</summary>
    public static async Task<PostgresServer> StartAsync(CancellationToken ct = default)
    {
        var bin = Environment.GetEnvironmentVariable(BinDirectoryVariable);
        if (string.IsNullOrWhiteSpace(bin))
            bin = DefaultBinDirectory;

        if (!File.Exists(Path.Combine(bin, "initdb")) || !File.Exists(Path.Combine(bin, "pg_ctl")))
            throw new InvalidOperationException(
                $"PostgreSQL server binaries not found in '{bin}' (no initdb/pg_ctl). " +
                "Install PostgreSQL 15 server binaries (`apt-get install postgresql-15`) " +
                $"or set {BinDirectoryVariable} to the directory that holds initdb, pg_ctl and postgres.");

        var runAsPostgres = IsRoot();
        var baseDirectory = Path.Combine("/tmp", "conduit-pg-" + Guid.NewGuid().ToString("N"));
        var server = new PostgresServer(bin, runAsPostgres, baseDirectory);
        try
        {
            await server.InitializeAsync(ct).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Creates a fresh database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync().ConfigureAwait(false);
            await using var command = connection.CreateCommand();
            command.CommandText = $"CREATE DATABASE {QuoteIdentifier(name)}";
            await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        var builder = new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name };
        var connectionString = builder.ConnectionString;
        lock (_gate)
            _issuedConnectionStrings.Add(connectionString);
        return connectionString;
    }

    /// <summary>
    /// A crash and a restart: <c>pg_ctl stop -m immediate</c> (every backend killed, no checkpoint, crash recovery on the
    /// next start), then, after <paramref name="downFor"/>, the same server started again on the same port. Returns once
    /// it accepts connections again; the caller reads the time then as "PostgreSQL is back".
    /// </summary>
    public async Task RestartImmediateAsync(TimeSpan downFor, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var stop = await RunPgCtlStopAsync(ct).ConfigureAwait(false);
        if (stop.ExitCode != 0)
            throw new InvalidOperationException($"pg_ctl stop -m immediate exited {stop.ExitCode}.{Environment.NewLine}{stop.Output}");
        // The outage itself (not a wait for a condition): the server stays down this long.
        if (downFor > TimeSpan.Zero) await Task.Delay(downFor, ct).ConfigureAwait(false);
        var start = await RunPgToolAsync("pg_ctl", ["-D", _dataDirectory, "-l", _logFile, "-w", "-t", "60", "-o", StartOptions(Port), "start"], ct)
            .ConfigureAwait(false);
        if (start.ExitCode != 0)
            throw new InvalidOperationException($"pg_ctl start after the crash exited {start.ExitCode}.{Environment.NewLine}{start.Output}" +
                                                Environment.NewLine + "--- postgres log ---" + Environment.NewLine + ReadLog());
        await WaitUntilConnectableAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Stops the server (<c>pg_ctl -m immediate stop</c>) and deletes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;

        AppDomain.CurrentDomain.ProcessExit -= _processExitHandler;
        UnregisterSignalHandlers();
        ClearPools();

        if (MayBeRunning)
        {
            try
            {
                using var cts = new CancellationTokenSource(StopTimeout);
                await RunPgCtlStopAsync(cts.Token).ConfigureAwait(false);
            }
            catch
            {
                // fall through to the kill below
            }

            KillPostmasterIfAlive();
            _running = false;
        }

        DeleteBaseDirectory();
    }

    private async Task InitializeAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(BaseDirectory);
        Directory.CreateDirectory(_socketDirectory);
        if (_runAsPostgres)
            await ChownToPostgresAsync(ct).ConfigureAwait(false);

        // Registered before anything is started, so a crash mid-start still cleans up.
        AppDomain.CurrentDomain.ProcessExit += _processExitHandler;
        RegisterSignalHandlers();

        var initdb = await RunPgToolAsync(
            "initdb",
            ["-D", _dataDirectory, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"],
            ct).ConfigureAwait(false);
        if (initdb.ExitCode != 0)
            throw new InvalidOperationException($"initdb failed (exit {initdb.ExitCode}).{Environment.NewLine}{initdb.Output}");

        var failures = new StringBuilder();
        for (var attempt = 1; attempt <= MaxStartAttempts; attempt++)
        {
            ct.ThrowIfCancellationRequested();
            var port = GetFreeLoopbackPort();
            var start = await RunPgToolAsync(
                "pg_ctl",
                ["-D", _dataDirectory, "-l", _logFile, "-w", "-t", "60", "-o", StartOptions(port), "start"],
                ct).ConfigureAwait(false);

            if (start.ExitCode == 0)
            {
                _running = true;
                Port = port;
                ConnectionString = new NpgsqlConnectionStringBuilder
                {
                    Host = "127.0.0.1",
                    Port = port,
                    Username = "postgres",
                    Database = "postgres",
                    Pooling = true,
                    MaxPoolSize = 50,
                }.ConnectionString;
                break;
            }

            failures.AppendLine($"attempt {attempt} on port {port}: pg_ctl start exited {start.ExitCode}")
                    .AppendLine(start.Output.TrimEnd());
            // Make sure nothing half-started survives before trying another port.
            try
            {
                await RunPgCtlStopAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                throw;
            }
            catch
            {
                // nothing was running
            }
            KillPostmasterIfAlive();
        }

        if (!_running)
            throw new InvalidOperationException(
                $"PostgreSQL did not start after {MaxStartAttempts} attempts.{Environment.NewLine}" +
                failures + Environment.NewLine + "--- postgres log ---" + Environment.NewLine + ReadLog());

        await WaitUntilConnectableAsync(ct).ConfigureAwait(false);
    }

    private string StartOptions(int port) => string.Join(' ',
        "-c listen_addresses=127.0.0.1",
        $"-p {port}",
        $"-k {_socketDirectory}",
        "-c fsync=on",
        "-c max_connections=200",
        "-c shared_buffers=128MB");

    private async Task WaitUntilConnectableAsync(CancellationToken ct)
    {
        var probe = new NpgsqlConnectionStringBuilder(ConnectionString)
        {
            Pooling = false,
            Timeout = 5,
        }.ConnectionString;

        var deadline = Stopwatch.StartNew();
        Exception? last = null;
        while (deadline.Elapsed < ConnectTimeout)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                await using var connection = new NpgsqlConnection(probe);
                await connection.OpenAsync(ct).ConfigureAwait(false);
                await using var command = connection.CreateCommand();
                command.CommandText = "SELECT 1";
                await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                last = ex;
            }
            await Task.Delay(200, ct).ConfigureAwait(false);
        }

        throw new InvalidOperationException(
            $"PostgreSQL on 127.0.0.1:{Port} accepted no connection within {ConnectTimeout.TotalSeconds:0} s: {last?.Message}" +
            Environment.NewLine + "--- postgres log ---" + Environment.NewLine + ReadLog(),
            last);
    }

    // Also true when a start was cancelled or failed half-way and left a postmaster behind.
    private bool MayBeRunning => _running || File.Exists(Path.Combine(_dataDirectory, "postmaster.pid"));

    private Task<ToolResult> RunPgCtlStopAsync(CancellationToken ct) =>
        RunPgToolAsync("pg_ctl", ["-D", _dataDirectory, "-m", "immediate", "-w", "-t", "30", "stop"], ct);

    /// <summary>Used by the process-exit hook: must be synchronous and must not throw.</summary>
    private void StopAndCleanUpSynchronously()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        try
        {
            if (MayBeRunning)
            {
                try
                {
                    var psi = CreateStartInfo(
                        "pg_ctl", ["-D", _dataDirectory, "-m", "immediate", "-w", "-t", "10", "stop"]);
                    psi.UseShellExecute = false;
                    psi.RedirectStandardOutput = true;
                    psi.RedirectStandardError = true;
                    using var process = Process.Start(psi);
                    if (process is not null)
                    {
                        _ = process.StandardOutput.ReadToEndAsync();
                        _ = process.StandardError.ReadToEndAsync();
                        if (!process.WaitForExit(15_000))
                            process.Kill(entireProcessTree: true);
                    }
                }
                catch
                {
                    // fall through to the kill below
                }
                KillPostmasterIfAlive();
                _running = false;
            }
            DeleteBaseDirectory();
        }
        catch
        {
            // never throw from a process-exit handler
        }
    }

    /// <summary>
    /// ProcessExit does not run when the process is ended by SIGTERM/SIGINT/SIGQUIT, so stop the server
    /// from those signals too. The handlers do not cancel the signal: the default action still follows.
    /// </summary>
    private void RegisterSignalHandlers()
    {
        if (OperatingSystem.IsWindows())
            return;
        foreach (var signal in new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGQUIT })
        {
            try
            {
                _signalRegistrations.Add(PosixSignalRegistration.Create(signal, _ => StopAndCleanUpSynchronously()));
            }
            catch
            {
                // signal handling not supported here; ProcessExit still covers normal exits
            }
        }
    }

    private void UnregisterSignalHandlers()
    {
        foreach (var registration in _signalRegistrations)
            registration.Dispose();
        _signalRegistrations.Clear();
    }

    private void KillPostmasterIfAlive()
    {
        try
        {
            var pidFile = Path.Combine(_dataDirectory, "postmaster.pid");
            if (!File.Exists(pidFile))
                return;
            var firstLine = File.ReadLines(pidFile).FirstOrDefault();
            if (!int.TryParse(firstLine, out var pid))
                return;
            using var process = Process.GetProcessById(pid);
            // Only kill it if it is really a postgres process (pids get reused).
            if (!process.ProcessName.StartsWith("postgres", StringComparison.Ordinal))
                return;
            process.Kill();
            process.WaitForExit(5_000);
        }
        catch
        {
            // already gone
        }
    }

    private void ClearPools()
    {
        List<string> connectionStrings;
        lock (_gate)
            connectionStrings = [.. _issuedConnectionStrings];
        if (ConnectionString.Length > 0)
            connectionStrings.Add(ConnectionString);

        foreach (var cs in connectionStrings)
        {
            try
            {
                using var connection = new NpgsqlConnection(cs);
                NpgsqlConnection.ClearPool(connection);
            }
            catch
            {
                // best effort
            }
        }
    }

    private void DeleteBaseDirectory()
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                if (Directory.Exists(BaseDirectory))
                    Directory.Delete(BaseDirectory, recursive: true);
                return;
            }
            catch (IOException)
            {
                Thread.Sleep(100);
            }
            catch (UnauthorizedAccessException)
            {
                Thread.Sleep(100);
            }
        }
    }

    private string ReadLog()
    {
        try
        {
            return File.Exists(_logFile) ? File.ReadAllText(_logFile) : "(no log file)";
        }
        catch (Exception ex)
        {
            return $"(could not read {_logFile}: {ex.Message})";
        }
    }

    private async Task ChownToPostgresAsync(CancellationToken ct)
    {
        var result = await RunAsync(
            new ProcessStartInfo("chown") { ArgumentList = { "-R", $"{OsUser}:{OsUser}", BaseDirectory } }, ct)
            .ConfigureAwait(false);
        if (result.ExitCode != 0)
            throw new InvalidOperationException(
                $"chown -R {OsUser}:{OsUser} {BaseDirectory} failed (exit {result.ExitCode}); " +
                $"running as root needs an OS user '{OsUser}'.{Environment.NewLine}{result.Output}");
    }

    private Task<ToolResult> RunPgToolAsync(string tool, IReadOnlyList<string> args, CancellationToken ct) =>
        RunAsync(CreateStartInfo(tool, args), ct);

    private ProcessStartInfo CreateStartInfo(string tool, IReadOnlyList<string> args)
    {
        var exe = Path.Combine(_binDirectory, tool);
        ProcessStartInfo psi;
        if (_runAsPostgres)
        {
            psi = new ProcessStartInfo("runuser");
            psi.ArgumentList.Add("-u");
            psi.ArgumentList.Add(OsUser);
            psi.ArgumentList.Add("--");
            psi.ArgumentList.Add(exe);
        }
        else
        {
            psi = new ProcessStartInfo(exe);
        }
        foreach (var arg in args)
            psi.ArgumentList.Add(arg);

        // The postgres user may not be able to enter the test's working directory.
        psi.WorkingDirectory = Directory.Exists(BaseDirectory) ? BaseDirectory : "/tmp";
        // Do not let the caller's libpq settings leak into pg_ctl.
        foreach (var name in new[] { "PGDATA", "PGPORT", "PGHOST", "PGUSER", "PGDATABASE", "PGOPTIONS" })
            psi.Environment.Remove(name);
        return psi;
    }

    private static async Task<ToolResult> RunAsync(ProcessStartInfo psi, CancellationToken ct)
    {
        psi.UseShellExecute = false;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.RedirectStandardInput = false;

        using var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException($"Could not run '{psi.FileName} {string.Join(' ', psi.ArgumentList)}': {ex.Message}", ex);
        }

        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch { /* already exited */ }
            throw;
        }

        var output = (await stdout.ConfigureAwait(false)) + (await stderr.ConfigureAwait(false));
        return new ToolResult(process.ExitCode, output);
    }

    private static int GetFreeLoopbackPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    private static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static bool IsRoot()
    {
        if (string.Equals(Environment.UserName, "root", StringComparison.Ordinal))
            return true;
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
            return false;
        try
        {
            return geteuid() == 0;
        }
        catch
        {
            return false;
        }
    }

    [DllImport("libc", SetLastError = false)]
    private static extern uint geteuid();

    private readonly record struct ToolResult(int ExitCode, string Output);
}

/// <summary>
/// xunit v2 fixture holding one <see cref="PostgresServer"/> for a test collection.
/// xunit v2 only discovers collection definitions in the test assembly itself, so each test
/// project declares <c>[CollectionDefinition(PostgresFixture.CollectionName)]</c> on a class
/// implementing <c>ICollectionFixture&lt;PostgresFixture&gt;</c>.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public const string CollectionName = "postgres";

    private PostgresServer? _server;

    public PostgresServer Server =>
        _server ?? throw new InvalidOperationException("PostgresFixture has not been initialized.");

    public async Task InitializeAsync() => _server = await PostgresServer.StartAsync().ConfigureAwait(false);

    public async Task DisposeAsync()
    {
        if (_server is not null)
            await _server.DisposeAsync().ConfigureAwait(false);
    }
}
