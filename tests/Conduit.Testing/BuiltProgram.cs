namespace Conduit.Testing;

/// <summary>Finds the built output of another project of the repository, for tests that run it as a process.</summary>
public static class BuiltProgram
{
    /// <summary>
    /// <c>&lt;root&gt;/<paramref name="projectDirectory"/>/bin/&lt;Configuration&gt;/&lt;tfm&gt;/<paramref name="dllName"/></c>, built with the
    /// same configuration and target framework as the running test (which lives in tests/X/bin/&lt;Configuration&gt;/&lt;tfm&gt;/).
    /// </summary>
    public static string Dll(string projectDirectory, string dllName)
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = here.Parent!.Name;
        var root = here.Parent.Parent!.Parent!.Parent!.Parent!.FullName;
        var dll = Path.Combine(root, projectDirectory, "bin", configuration, here.Name, dllName);
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"build {projectDirectory} first", dll);
    }
}
