namespace Conduit.Server.Configuration;

/// <summary>
/// The node's command-line flag for an option (<c>--port</c>), with the name of its value in the usage text and a
/// one-line help. Only the most used options have a flag; every option is settable from <c>appsettings.json</c> and
/// the environment (<see cref="NodeConfiguration"/>).
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class FlagAttribute(string name, string valueName, string help) : Attribute
{
    public string Name { get; } = name;
    /// <summary>The value's name in the usage text (<c>N</c>, <c>FILE</c>); empty for a switch that takes no value.</summary>
    public string ValueName { get; } = valueName;
    public string Help { get; } = help;
    /// <summary>The flag may be given more than once; its values make a list (<c>--seed</c>).</summary>
    public bool Repeatable { get; init; }
}

/// <summary>
/// The option's environment name before the <c>CONDUIT__</c> scheme (<c>CONDUIT_PORT</c>): still read, below the new
/// name, and documented as deprecated.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class DeprecatedEnvironmentNameAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

/// <summary>A property of an options class that is not an option (computed, or set by code only).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class NotAnOptionAttribute : Attribute;
