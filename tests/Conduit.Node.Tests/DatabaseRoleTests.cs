using System.Diagnostics;
using Conduit.Client;
using Conduit.Testing;
using Npgsql;
using Xunit;

namespace Conduit.Node.Tests;

/// <summary>
/// deploy/postgres/create-conduit-role.sql, applied with psql as docker-compose.yml's init does, gives the node a role
/// that can run it and can do nothing else. The server asks role conduit for its password (SCRAM), so the password the
/// script took from <c>CONDUIT_DB_PASSWORD</c> is checked too.
/// </summary>
public sealed class DatabaseRoleTests : IAsyncLifetime
{
    private const string Password = "role-test-password";
    private const string InsufficientPrivilege = "42501";

    private PostgresServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await PostgresServer.StartAsync();
        await RequirePasswordFor("conduit");
        var applied = await ApplyRoleScript(Password);
        Assert.True(applied.ExitCode == 0, $"psql exited {applied.ExitCode}:\n{applied.Output}");
        // Running it again (a re-deploy, or by hand after the compose init) changes nothing and does not fail.
        var again = await ApplyRoleScript(Password);
        Assert.True(again.ExitCode == 0, $"psql exited {again.ExitCode} on the second run:\n{again.Output}");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact(DisplayName = "a node connected as the conduit role creates its tables in its own schema and serves enqueue, poll and complete")]
    public async Task NodeRunsAsConduitRole()
    {
        var port = NodeProcess.FreePort();
        var environment = new Dictionary<string, string>
        {
            ["CONDUIT_POSTGRES"] = ConduitConnectionString("conduit", Password),
            // Honoured once the node has a separate cluster port; ignored before. Keeps 5053 free for other tests.
            ["CONDUIT_CLUSTER_PORT"] = NodeProcess.FreePort().ToString(),
        };
        await using (var node = NodeProcess.Start(environment, "--port", port.ToString()))
        {
            await node.WaitForOutput("Conduit node listening on");
            Assert.Contains("Username=conduit", node.Output);
            Assert.DoesNotContain(Password, node.Output);

            await using var client = ConduitClient.Connect($"127.0.0.1:{port}");
            var enqueued = await client.EnqueueAsync("emails", "hello");
            var task = Assert.Single(await client.PollAsync("emails", 1, TimeSpan.FromSeconds(10)));
            Assert.Equal((enqueued.TaskId, "hello"), (task.Id, task.PayloadText));
            await client.CompleteAsync(task.LeaseToken);
            Assert.Equal(Conduit.Protocol.TaskStatus.Completed, (await client.GetTaskAsync(task.Id)).Status);
        }

        await using var conduit = await Open(ConduitConnectionString("conduit", Password));
        var tables = await Strings(conduit, "SELECT schemaname || '.' || tablename FROM pg_tables WHERE tableowner = 'conduit'");
        Assert.NotEmpty(tables);
        Assert.All(tables, t => Assert.StartsWith("conduit.", t, StringComparison.Ordinal));
    }

    [Fact(DisplayName = "the conduit role is no superuser and cannot create databases or roles, read pg_authid or files, or create outside its schema")]
    public async Task ConduitRoleIsLeastPrivilege()
    {
        await using (var admin = await Open(_server.ConnectionString))
            await Execute(admin, "CREATE DATABASE other");
        await using var conduit = await Open(ConduitConnectionString("conduit", Password));

        var attributes = await Strings(conduit,
            "SELECT concat_ws(',', rolsuper::text, rolcreatedb::text, rolcreaterole::text, rolreplication::text, rolbypassrls::text, rolcanlogin::text) " +
            "FROM pg_roles WHERE rolname = current_user");
        Assert.Equal(["false,false,false,false,false,true"], attributes);
        Assert.Empty(await Strings(conduit,
            "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid WHERE m.member = 'conduit'::regrole"));

        await AssertRefused(conduit, "CREATE DATABASE mine");
        await AssertRefused(conduit, "CREATE ROLE mine LOGIN");
        await AssertRefused(conduit, "ALTER ROLE conduit SUPERUSER");
        await AssertRefused(conduit, "SELECT rolpassword FROM pg_authid");
        await AssertRefused(conduit, "SELECT pg_read_file('postgresql.conf')");
        await AssertRefused(conduit, "COPY (SELECT 1) TO PROGRAM 'true'");
        await AssertRefused(conduit, "CREATE SCHEMA mine");
        await AssertRefused(conduit, "CREATE TABLE public.mine (id int)");
        await AssertRefused(conduit, "CREATE TEMPORARY TABLE mine (id int)");
        await Execute(conduit, "CREATE TABLE mine (id int); DROP TABLE mine"); // its own schema: the one thing it may do

        await using var other = await Open(ConduitConnectionString("conduit", Password, database: "other"));
        await AssertRefused(other, "CREATE TABLE public.mine (id int)");
        await AssertRefused(other, "CREATE SCHEMA mine");

        var wrongPassword = await Assert.ThrowsAsync<PostgresException>(() => Open(ConduitConnectionString("conduit", "wrong")));
        Assert.Equal("28P01", wrongPassword.SqlState); // invalid_password
    }

    private string ConduitConnectionString(string user, string password, string database = "conduit") =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = _server.Port, Username = user, Password = password, Database = database, Pooling = false,
        }.ConnectionString;

    /// <summary>The test server trusts every local login; make it ask this role for a password (SCRAM) instead.</summary>
    private async Task RequirePasswordFor(string role)
    {
        var hba = Path.Combine(_server.BaseDirectory, "data", "pg_hba.conf");
        var rules = await File.ReadAllTextAsync(hba);
        await File.WriteAllTextAsync(hba, $"host all {role} 127.0.0.1/32 scram-sha-256\n" + rules);
        await using var admin = await Open(_server.ConnectionString);
        Assert.Equal(["true"], await Strings(admin, "SELECT pg_reload_conf()::text"));
        Assert.Equal(["scram-sha-256"], await Strings(admin,
            $"SELECT auth_method FROM pg_hba_file_rules WHERE '{role}' = ANY(user_name) ORDER BY line_number LIMIT 1"));
    }

    /// <summary>psql as the superuser, the password in the environment: what the postgres image's init does.</summary>
    private async Task<(int ExitCode, string Output)> ApplyRoleScript(string password)
    {
        var bin = Environment.GetEnvironmentVariable(PostgresServer.BinDirectoryVariable) is { Length: > 0 } b ? b : PostgresServer.DefaultBinDirectory;
        var script = Path.Combine(AppContext.BaseDirectory, "deploy", "create-conduit-role.sql");
        var info = new ProcessStartInfo(Path.Combine(bin, "psql"))
        {
            ArgumentList = { "-X", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", _server.Port.ToString(), "-U", "postgres", "-d", "postgres", "-f", script },
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        info.Environment["CONDUIT_DB_PASSWORD"] = password;
        using var psql = Process.Start(info)!;
        var stdout = psql.StandardOutput.ReadToEndAsync();
        var stderr = psql.StandardError.ReadToEndAsync();
        await psql.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (psql.ExitCode, await stdout + await stderr);
    }

    private static async Task<NpgsqlConnection> Open(string connectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        try
        {
            await connection.OpenAsync();
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<List<string>> Strings(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync()) values.Add(reader.GetValue(0).ToString()!);
        return values;
    }

    private static async Task AssertRefused(NpgsqlConnection connection, string sql)
    {
        var refused = await Assert.ThrowsAsync<PostgresException>(() => Execute(connection, sql));
        Assert.True(refused.SqlState == InsufficientPrivilege, $"{sql}: expected 42501 insufficient_privilege, got {refused.SqlState} {refused.MessageText}");
    }
}
