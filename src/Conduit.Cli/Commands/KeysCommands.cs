using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.Json;
using Conduit.Protocol.Security;

namespace Conduit.Cli.Commands;

/// <summary>
/// <c>keys new</c> and <c>keys hash</c>: make an API key and the entry for a node's keys file. Nothing is sent to a node;
/// the key is printed once, on stdout, and appears in no error message.
/// </summary>
public static class KeysCommands
{
    private static readonly JsonSerializerOptions EntryJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Keys()
    {
        var keys = new Command("keys", "make API keys and the entries of a node's keys file (--keys FILE.json)") { New(), Hash() };
        return keys;
    }

    private static Command New()
    {
        var id = new Option<string>("--id")
        {
            Description = "the key's id: a-z, 0-9, '_', '-' (up to 64); it names the key in the keys file and in audit lines",
            HelpName = "name",
            Required = true,
        };
        id.Validators.Add(r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : null;
            if (!ApiKey.IsValidId(text)) r.AddError($"--id: {ApiKey.DescribeId(text)}");
        });
        var roles = RoleOption();
        var namespaces = NamespaceOption();
        var command = new Command("new", "make a new API key: prints the key (shown only once) and its entry for the nodes' keys file")
        {
            id, roles, namespaces,
        };
        return command.Runs((ctx, parse) =>
        {
            var key = ApiKey.Generate(parse.GetValue(id)!);
            var entry = KeysFileEntry.For(key, Split(parse.GetValue(roles)), Split(parse.GetValue(namespaces)));
            ctx.Output.Result(new { key, entry }, () =>
            {
                ctx.Output.Line(key);
                ctx.Output.Line(JsonSerializer.Serialize(entry, EntryJson));
                ctx.Output.Note(
                    "line 1 is the key: it is shown only this once; give it to the client (--api-key, CONDUIT_API_KEY, ConduitClientOptions.ApiKey). " +
                    "line 2 is its entry: add it to the \"keys\" list of every node's keys file; nodes pick it up within seconds.");
            });
            return Task.CompletedTask;
        });
    }

    private static Command Hash()
    {
        var key = new Argument<string>("key") { Description = "an existing key (id.secret), or - to read it from stdin (keeps it out of shell history)" };
        var roles = RoleOption();
        var namespaces = NamespaceOption();
        var command = new Command("hash", "print the keys file entry of an existing key") { key, roles, namespaces };
        return command.Runs(async (ctx, parse) =>
        {
            var text = parse.GetValue(key);
            if (text == "-") text = (await Console.In.ReadLineAsync(ctx.Cancellation))?.Trim();
            if (ApiKey.Problem(text) is { } problem) throw new UsageException(problem);
            var entry = KeysFileEntry.For(text!, Split(parse.GetValue(roles)), Split(parse.GetValue(namespaces)));
            ctx.Output.Result(new { entry }, () => ctx.Output.Line(JsonSerializer.Serialize(entry, EntryJson)));
        });
    }

    private static Option<string[]> RoleOption()
    {
        var roles = new Option<string[]>("--role")
        {
            Description = $"a role of the key, repeatable: {string.Join(", ", KeysFileEntry.RoleNames)}",
            HelpName = "role",
            Required = true,
            Arity = ArgumentArity.OneOrMore,
        };
        roles.Validators.Add(r =>
        {
            foreach (var name in Split(r.Tokens.Select(t => t.Value)))
                if (!KeysFileEntry.RoleNames.Contains(name))
                    r.AddError($"--role '{name}' is not a role: use {string.Join(", ", KeysFileEntry.RoleNames)}");
        });
        return roles;
    }

    // Named like the global --namespace/-n on purpose: a local option shadows a recursive one of the same name in
    // System.CommandLine (tried), so `keys new -n billing` makes a key for billing instead of silently ignoring it.
    // Both names must stay here, or the global option would take -n and the key would be made for `default`.
    private static Option<string[]> NamespaceOption()
    {
        var namespaces = new Option<string[]>("--namespace", "-n")
        {
            Description = $"a namespace the key's roles apply in, repeatable; * for every namespace (default: {PartitionId.DefaultNamespace})",
            HelpName = "namespace",
            Arity = ArgumentArity.OneOrMore,
            DefaultValueFactory = _ => [PartitionId.DefaultNamespace],
        };
        namespaces.Validators.Add(r =>
        {
            var names = Split(r.Tokens.Select(t => t.Value)).ToList();
            foreach (var name in names)
                if (name != KeysFileEntry.AllNamespaces && !QueueName.IsValid(name))
                    r.AddError($"--namespace '{name}' is not a namespace name: use a-z, 0-9, '.', '_', '-' (up to {QueueName.MaxLength}), or * for every namespace");
            if (names.Contains(KeysFileEntry.AllNamespaces) && names.Any(n => n != KeysFileEntry.AllNamespaces))
                r.AddError("--namespace '*' already means every namespace: give no other namespace with it");
        });
        return namespaces;
    }

    /// <summary>Values as given, also comma-separated (<c>--role producer,worker</c>), without duplicates.</summary>
    private static IEnumerable<string> Split(IEnumerable<string>? values) =>
        (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct();
}
