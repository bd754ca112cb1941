using System.CommandLine;
using System.CommandLine.Parsing;
using Conduit.Cli.Commands;
using Conduit.Cli.Output;
using Conduit.Protocol.Remoting;

namespace Conduit.Cli;

/// <summary>
/// The <c>conduit</c> command line: the command tree, and the one place where outcomes become exit codes
/// (<see cref="ExitCodes"/>): 0 ok, 1 refused (typed error printed with its name), 2 usage, 3 cannot reach the node.
/// </summary>
public static class CommandTree
{
    public static RootCommand Build()
    {
        var root = new RootCommand("conduit: operate a Conduit cluster and its queues.")
        {
            GlobalOptions.Server,
            GlobalOptions.Namespace,
            GlobalOptions.Json,
            GlobalOptions.Timeout,
            GlobalOptions.ApiKey,
            GlobalOptions.TlsCert,
            GlobalOptions.TlsCertPassword,
            GlobalOptions.TlsCa,
            CertsCommands.Certs(),
            ClusterCommands.Cluster(),
            ClusterCommands.Sharding(),
            QueueCommands.Queues(),
            QueueCommands.Queue(),
            QueueCommands.DeadLetters(),
            TaskCommands.Task(),
            TaskCommands.Tasks(),
            ScheduleCommands.Schedule(),
            EnqueueCommand.Build(),
            PollCommand.Build(),
            TaskCommands.Complete(),
            TaskCommands.Fail(),
            KeysCommands.Keys(),
        };
        return root;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var parse = Build().Parse(args);
        if (parse.Errors.Count == 0) return await parse.InvokeAsync();

        var output = CliOutput.ForConsole(json: args.Contains("--json"));
        var problems = Explain(parse).ToList();
        output.Error("usage", null, problems[0], [.. problems.Skip(1), UsageHint(parse)]);
        return ExitCodes.Usage;
    }

    /// <summary>Makes <paramref name="command"/> run <paramref name="run"/>, mapping its outcome to an exit code.</summary>
    public static Command Runs(this Command command, Func<CliContext, ParseResult, Task> run)
    {
        command.SetAction(async (parse, ct) =>
        {
            CliSettings settings;
            try
            {
                settings = GlobalOptions.Read(parse);
            }
            catch (TlsSettingsException e)
            {
                CliOutput.ForConsole(parse.GetValue(GlobalOptions.Json)).Error("usage", null, e.Message, UsageHint(parse));
                return ExitCodes.Usage;
            }
            var output = CliOutput.ForConsole(settings.Json);
            await using var context = new CliContext(settings, output, ct);
            try
            {
                await run(context, parse);
                return ExitCodes.Ok;
            }
            catch (UsageException e)
            {
                output.Error("usage", null, e.Message, UsageHint(parse));
                return ExitCodes.Usage;
            }
            catch (RefusedException e)
            {
                output.Error("refused", e.Rejected.Code.ToString(), e.Rejected.Message);
                return ExitCodes.Refused;
            }
            catch (UnreachableException e)
            {
                output.Error("unreachable", null, e.Message);
                return ExitCodes.Unreachable;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                output.Error("cancelled", null, "cancelled");
                return ExitCodes.Refused;
            }
            catch (Exception e)
            {
                output.Error("failed", null, e.Message);
                return ExitCodes.Refused;
            }
        });
        return command;
    }

    /// <summary>The parser's messages, with "Required command was not provided." turned into the list of commands to choose from.</summary>
    private static IEnumerable<string> Explain(ParseResult parse)
    {
        var messages = parse.Errors.Select(e => e.Message).Distinct().ToList();
        const string missingCommand = "Required command was not provided.";
        if (!messages.Remove(missingCommand)) return messages;
        if (messages.Count > 0) return messages; // e.g. "Unrecognized command or argument 'frob'." says enough
        var choices = string.Join(", ", parse.CommandResult.Command.Subcommands.Select(c => c.Name));
        return [$"`{CommandPath(parse)}` needs a command: {choices}"];
    }

    private static string UsageHint(ParseResult parse) => $"Run `{CommandPath(parse)} --help` for usage.";

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (SymbolResult? r = parse.CommandResult; r is CommandResult c; r = c.Parent) names.Insert(0, c.Command.Name);
        if (names.Count > 0) names[0] = "conduit";
        return names.Count > 0 ? string.Join(' ', names) : "conduit";
    }
}
