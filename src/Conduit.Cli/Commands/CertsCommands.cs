using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Conduit.Cli.Output;
using Conduit.Protocol.Remoting;

namespace Conduit.Cli.Commands;

/// <summary>
/// <c>certs create | issue</c>: a private CA and the node and client certificates of mutual TLS (docs/tls.md). Works
/// on files only and talks to no node, so the global TLS options play no part (they may name files not made yet).
/// </summary>
public static partial class CertsCommands
{
    public static Command Certs() => new("certs", "make the CA and the certificates for mutual TLS (see docs/tls.md)")
    {
        Create(),
        Issue(),
    };

    private static Command Create()
    {
        var output = new Option<string>("--out") { Description = "directory to write into (made if missing; existing files are never overwritten)", Required = true, HelpName = "DIR" };
        var hosts = Hosts();
        var clients = new Option<string[]>("--client") { Description = "also make client-NAME.pfx (OU=conduit-client); repeatable", HelpName = "NAME", AllowMultipleArgumentsPerToken = false };
        var days = Days();
        var caDays = new Option<int?>("--ca-days") { Description = $"how long the CA is valid, in days (default {CertificateAuthority.DefaultCaDays})", HelpName = "N" };
        var password = Password();
        var command = new Command("create", "make a new CA (ca.pem, ca.pfx) and a node certificate (node.pfx), and client certificates")
        {
            output, hosts, clients, days, caDays, password,
        };
        return command.RunsOffline((ctx, parse) =>
        {
            var dir = parse.GetValue(output)!;
            var clientNames = parse.GetValue(clients) ?? [];
            foreach (var name in clientNames) CheckName("--client", name);
            var hostNames = CheckHosts(parse.GetValue(hosts) ?? []);
            var lifetime = CheckDays("--days", parse.GetValue(days) ?? CertificateAuthority.DefaultDays);
            var caLifetime = CheckDays("--ca-days", parse.GetValue(caDays) ?? CertificateAuthority.DefaultCaDays);
            var pass = parse.GetValue(password);
            var files = new[] { "ca.pem", "ca.pfx", "node.pfx" }.Concat(clientNames.Select(ClientFile)).Select(f => Path.Combine(dir, f)).ToList();
            RefuseExisting(files);
            Directory.CreateDirectory(dir);

            using var ca = CertificateAuthority.Create(caLifetime);
            CertificateFiles.WritePem(ca.ExportPem(), files[0]);
            CertificateFiles.WritePfx(ca.Certificate, files[1], pass);
            using (var node = ca.IssueNode(hostNames.FirstOrDefault() ?? "conduit-node", hostNames, lifetime)) CertificateFiles.WritePfx(node, files[2], pass);
            foreach (var name in clientNames)
            {
                using var client = ca.IssueClient(name, lifetime);
                CertificateFiles.WritePfx(client, Path.Combine(dir, ClientFile(name)), pass);
            }
            Report(ctx, ca.Certificate, files, pass is not null);
        });
    }

    private static Command Issue()
    {
        var caFile = new Option<string>("--ca") { Description = "the CA's ca.pfx (from `certs create`)", Required = true, HelpName = "FILE" };
        var node = new Option<string?>("--node") { Description = "issue node-NAME.pfx (OU=conduit-node; give its --host names)", HelpName = "NAME" };
        var client = new Option<string?>("--client") { Description = "issue client-NAME.pfx (OU=conduit-client)", HelpName = "NAME" };
        var hosts = Hosts();
        var output = new Option<string?>("--out") { Description = "directory to write into (default: the one holding --ca)", HelpName = "DIR" };
        var days = Days();
        var password = Password();
        var caPassword = new Option<string?>("--ca-password") { Description = "password of ca.pfx (default: --password)", HelpName = "password" };
        var command = new Command("issue", "issue another node or client certificate from an existing CA")
        {
            caFile, node, client, hosts, output, days, password, caPassword,
        };
        return command.RunsOffline((ctx, parse) =>
        {
            var (nodeName, clientName) = (parse.GetValue(node), parse.GetValue(client));
            if ((nodeName is null) == (clientName is null)) throw new UsageException("give one of --node NAME or --client NAME");
            var name = nodeName ?? clientName!;
            CheckName(nodeName is null ? "--client" : "--node", name);
            var hostNames = CheckHosts(parse.GetValue(hosts) ?? []);
            if (clientName is not null && hostNames.Count > 0) throw new UsageException("--host names a node's addresses: use it with --node");
            var lifetime = CheckDays("--days", parse.GetValue(days) ?? CertificateAuthority.DefaultDays);
            var pass = parse.GetValue(password);
            var caPath = parse.GetValue(caFile)!;
            var dir = parse.GetValue(output) ?? Path.GetDirectoryName(Path.GetFullPath(caPath))!;
            var file = Path.Combine(dir, nodeName is null ? ClientFile(name) : $"node-{name}.pfx");
            RefuseExisting([file]);

            using var ca = LoadCa(caPath, parse.GetValue(caPassword) ?? pass);
            Directory.CreateDirectory(dir);
            using (var issued = nodeName is null ? ca.IssueClient(name, lifetime) : ca.IssueNode(name, hostNames, lifetime))
                CertificateFiles.WritePfx(issued, file, pass);
            Report(ctx, ca.Certificate, [file], pass is not null);
        });
    }

    private static Option<string[]> Hosts() => new("--host")
    {
        Description = "a host name or IP address the node is reached at (a SAN); repeatable; localhost and 127.0.0.1 are always in",
        HelpName = "NAME",
        AllowMultipleArgumentsPerToken = false,
    };

    private static Option<int?> Days() => new("--days")
    {
        Description = $"how long node and client certificates are valid, in days (default {CertificateAuthority.DefaultDays})",
        HelpName = "N",
    };

    private static Option<string?> Password() => new("--password")
    {
        Description = "encrypt the .pfx files with this password (default: none; they are written mode 0600 either way)",
        HelpName = "password",
    };

    private static string ClientFile(string name) => $"client-{name}.pfx";

    private static void CheckName(string option, string name)
    {
        if (!NameRule().IsMatch(name))
            throw new UsageException($"{option} '{name}' is not a certificate name: use letters, digits, '.', '_', '-' (up to 64, starting with a letter or digit)");
    }

    private static List<string> CheckHosts(string[] hosts)
    {
        foreach (var host in hosts)
            if (!HostRule().IsMatch(host)) throw new UsageException($"--host '{host}' is not a host name or IP address");
        return [.. hosts];
    }

    private static int CheckDays(string option, int days) =>
        days is >= 1 and <= 36_500 ? days : throw new UsageException($"{option} must be 1..36500 days, not {days.ToString(CultureInfo.InvariantCulture)}");

    private static void RefuseExisting(IEnumerable<string> files)
    {
        var existing = files.Where(File.Exists).ToList();
        if (existing.Count > 0) throw new UsageException($"not overwriting {string.Join(", ", existing)}: move it away or choose another --out");
    }

    private static CertificateAuthority LoadCa(string path, string? password)
    {
        try
        {
            return CertificateAuthority.Load(path, password);
        }
        catch (TlsSettingsException e)
        {
            throw new UsageException(e.Message);
        }
    }

    private static void Report(CliContext ctx, X509Certificate2 ca, List<string> files, bool encrypted)
    {
        ctx.Output.Result(new { ca = ca.Subject, caExpires = ca.NotAfter.ToUniversalTime(), files, encrypted }, () =>
        {
            ctx.Output.Line($"CA: {ca.Subject} (valid until {ca.NotAfter.ToUniversalTime():yyyy-MM-dd})");
            foreach (var file in files) ctx.Output.Line($"wrote {file}");
        });
        if (files.Any(f => f.EndsWith("ca.pfx", StringComparison.Ordinal)))
            ctx.Output.Note("ca.pfx holds the CA's key: keep it off the nodes, somewhere safe; ca.pem is what nodes and clients trust");
        if (!encrypted) ctx.Output.Note("the .pfx files have no password (mode 0600): protect them as you would an SSH key, or use --password");
    }

    /// <summary>Runs a command that needs no node: no connection, and the global TLS options are not read.</summary>
    private static Command RunsOffline(this Command command, Action<CliContext, ParseResult> run)
    {
        command.SetAction(async (parse, ct) =>
        {
            var output = CliOutput.ForConsole(parse.GetValue(GlobalOptions.Json));
            await using var context = new CliContext(new CliSettings { Json = output.Json }, output, ct);
            try
            {
                run(context, parse);
                return ExitCodes.Ok;
            }
            catch (UsageException e)
            {
                output.Error("usage", null, e.Message, $"Run `conduit certs {command.Name} --help` for usage.");
                return ExitCodes.Usage;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                output.Error("failed", null, e.Message);
                return ExitCodes.Refused;
            }
        });
        return command;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex NameRule();

    [GeneratedRegex(@"^[A-Za-z0-9:.\-]{1,253}$")]
    private static partial Regex HostRule();
}
