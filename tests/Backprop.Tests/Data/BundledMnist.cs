namespace Backprop.Tests.Data;

/// <summary>The MNIST subset bundled with the CLI, found by walking up from the test binary to the repository.</summary>
internal static class BundledMnist
{
    public static string Directory { get; } = Find();

    public static string File(string name) => Path.Combine(Directory, name);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "src", "Backprop.Cli", "Data", "mnist-10k");
            if (System.IO.Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException($"src/Backprop.Cli/Data/mnist-10k not found above {AppContext.BaseDirectory}.");
    }
}
