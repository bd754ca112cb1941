namespace Conduit.Cli;

/// <summary>What the process exit code means. Scripts can rely on these.</summary>
public static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Ok = 0;
    /// <summary>The cluster refused the operation (a typed error such as <c>PayloadTooLarge</c> or <c>TaskNotFound</c>), or it failed.</summary>
    public const int Refused = 1;
    /// <summary>The command line is wrong: nothing was sent.</summary>
    public const int Usage = 2;
    /// <summary>No node answered at the server address.</summary>
    public const int Unreachable = 3;
}

/// <summary>A command line that cannot be run as written. <see cref="Exception.Message"/> names the problem and the fix.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>The cluster answered with a typed refusal.</summary>
public sealed class RefusedException(Rejected rejected) : Exception(rejected.Message)
{
    public Rejected Rejected { get; } = rejected;
}

/// <summary>The server could not be reached, or did not answer in time.</summary>
public sealed class UnreachableException(string message) : Exception(message);
