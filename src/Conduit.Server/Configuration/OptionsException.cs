namespace Conduit.Server.Configuration;

/// <summary>
/// An option that cannot work: its message names the option as it was given (flag, environment variable or
/// appsettings key) and its other names. The node exits with code 2 on it, before anything starts.
/// </summary>
public sealed class OptionsException(string message) : Exception(message);
