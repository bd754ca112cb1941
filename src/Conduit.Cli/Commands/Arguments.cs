using System.CommandLine;

namespace Conduit.Cli.Commands;

/// <summary>Arguments several commands share, each checked before anything is sent (a bad one is a usage error).</summary>
public static class Arguments
{
    public static Argument<string> Queue()
    {
        var queue = new Argument<string>("queue") { Description = "queue name: a-z, 0-9, '.', '_', '-' (up to 128)" };
        queue.Validators.Add(r =>
        {
            var name = r.Tokens.Count > 0 ? r.Tokens[0].Value : null;
            if (!QueueName.IsValid(name)) r.AddError(QueueName.Describe(name));
        });
        return queue;
    }

    public static Argument<string> TaskId()
    {
        var id = new Argument<string>("id") { Description = "task id, as `enqueue` and `poll` print it (e.g. default/emails#0:81)" };
        id.Validators.Add(CheckTaskIds);
        return id;
    }

    public static Argument<string[]> TaskIds(string description)
    {
        var ids = new Argument<string[]>("task") { Description = description, Arity = ArgumentArity.ZeroOrMore };
        ids.Validators.Add(CheckTaskIds);
        return ids;
    }

    private static void CheckTaskIds(System.CommandLine.Parsing.ArgumentResult r)
    {
        foreach (var token in r.Tokens)
            if (!Protocol.TaskId.TryParse(token.Value, out _))
                r.AddError($"'{token.Value}' is not a task id: task ids look like default/emails#0:81, as `conduit enqueue` and `conduit poll` print them");
    }

    public static Argument<string> Lease()
    {
        var lease = new Argument<string>("lease") { Description = "lease token, from the LEASE column of `conduit poll`" };
        lease.Validators.Add(r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : null;
            if (!LeaseToken.TryParse(text, out _))
                r.AddError($"'{text}' is not a lease token: copy it from the LEASE column of `conduit poll` (it looks like default/emails#0:81:1:3:123456)");
        });
        return lease;
    }

    /// <summary>A member's cluster address: <c>host:port</c> (its cluster port) or <c>akka.tcp://conduit-cluster@host:port</c>.</summary>
    public static Argument<ServerAddress> NodeAddress() => new("address")
    {
        Description = "member address: host:cluster-port or akka.tcp://conduit-cluster@host:port (as `conduit cluster show` lists it)",
        CustomParser = r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : null;
            if (ServerAddress.TryParse(text, out var address)) return address;
            r.AddError($"'{text}' is not a node address: use host:cluster-port or akka.tcp://conduit-cluster@host:port, as `conduit cluster show` lists it");
            return default;
        },
    };

    /// <summary>An integer option that must lie in [<paramref name="min"/>, <paramref name="max"/>]; <paramref name="why"/> says what it means.</summary>
    /// <param name="defaultValue">Shown in the help; null when "not given" means something the description explains (the value is then 0).</param>
    public static Option<int> Int(string name, string description, int? defaultValue, int min, int max, string why) => new(name)
    {
        Description = description,
        HelpName = "n",
        DefaultValueFactory = defaultValue is { } d ? _ => d : null,
        CustomParser = r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : null;
            if (int.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var value)
                && value >= min && value <= max)
                return value;
            r.AddError($"{name} must be a number {min}..{max} ({why}), not '{text}'");
            return default;
        },
    };
}
