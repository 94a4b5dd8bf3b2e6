namespace Backprop.Tests.Backends;

/// <summary>
/// Outside the backends, only two files may name the CPU: Tensors/Device.cs (the device itself) and
/// Tensors/Tensor.Device.cs (the default device, adopting host arrays, the host-memory fast path). Everything else
/// reaches memory through a tensor's backend or <see cref="BackendRegistry"/> (docs/architecture.md, Note [Adding a backend]).
/// </summary>
public class NoDirectCpuUseTests
{
    private static readonly string[] CpuNames = ["CpuBackend", "CpuStorage", "Device.Cpu", "DeviceType.Cpu"];

    private static readonly string[] Allowed = ["Backends/", "Tensors/Device.cs", "Tensors/Tensor.Device.cs"];

    private static string SourceRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "src", "Backprop");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException($"src/Backprop not found above {AppContext.BaseDirectory}.");
    }

    [Fact]
    public void No_layer_optimizer_op_or_io_path_names_the_cpu()
    {
        var root = SourceRoot();
        var files = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Select(f => (Full: f, Relative: Path.GetRelativePath(root, f).Replace('\\', '/')))
            .Where(f => !f.Relative.StartsWith("obj/", StringComparison.Ordinal) && !f.Relative.StartsWith("bin/", StringComparison.Ordinal))
            .ToList();
        Assert.True(files.Count > 100, $"only {files.Count} source files found under {root}");
        var offences = new List<string>();
        foreach (var (full, relative) in files)
        {
            if (Allowed.Any(a => relative.StartsWith(a, StringComparison.Ordinal))) continue;
            var lines = File.ReadAllLines(full);
            for (int i = 0; i < lines.Length; i++)
                foreach (var name in CpuNames)
                    if (lines[i].Contains(name, StringComparison.Ordinal)) offences.Add($"{relative}:{i + 1} names {name}: {lines[i].Trim()}");
        }
        Assert.True(offences.Count == 0, "Use the tensor's backend or device instead:\n" + string.Join("\n", offences));
    }
}
