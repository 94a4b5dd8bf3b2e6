using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using System.Text;

namespace Backprop;

/// <summary>
/// Source lines for stack frames captured without file information. Capturing a stack with file information reads
/// the debug symbols for every frame at once (several times the cost of the walk itself); anomaly mode captures
/// only methods and IL offsets, and this resolves the few frames an error message shows, from the portable PDB beside
/// the assembly or embedded in it.
/// </summary>
internal static class SourceLines
{
    private static readonly ConcurrentDictionary<System.Reflection.Module, MetadataReaderProvider?> Readers = new();
    private static readonly Assembly Library = typeof(SourceLines).Assembly;

    /// <summary>The file and line of a frame, or null when the method has no symbols.</summary>
    public static (string File, int Line)? Resolve(StackFrame frame)
    {
        if (frame.GetMethod() is not { } method || frame.GetILOffset() is var offset && offset < 0) return null;
        try
        {
            if (Readers.GetOrAdd(method.Module, Open) is not { } provider) return null;
            var reader = provider.GetMetadataReader();
            var handle = MetadataTokens.MethodDefinitionHandle(method.MetadataToken);
            (string, int)? best = null;
            foreach (var point in reader.GetMethodDebugInformation(handle.ToDebugInformationHandle()).GetSequencePoints())
            {
                if (point.Offset > offset) break;
                if (point.IsHidden) continue;
                best = (reader.GetString(reader.GetDocument(point.Document).Name), point.StartLine);
            }
            return best;
        }
        catch (Exception e) when (e is BadImageFormatException or IOException or InvalidOperationException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>The first frame outside this library (the user's line that ran the op), or null.</summary>
    public static StackFrame? FirstUserFrame(StackTrace stack)
    {
        foreach (var frame in stack.GetFrames())
            if (frame.GetMethod() is { } m && m.Module.Assembly != Library) return frame;
        return null;
    }

    /// <summary>The frames from the first one outside this library, as <c>at Type.Method() in File:line</c>, at most <paramref name="max"/>.</summary>
    public static string Format(StackTrace stack, int max = 12)
    {
        var frames = stack.GetFrames();
        int start = Array.FindIndex(frames, f => f.GetMethod() is { } m && m.Module.Assembly != Library);
        if (start < 0) start = 0;
        var sb = new StringBuilder();
        int shown = 0;
        for (int i = start; i < frames.Length && shown < max; i++, shown++)
        {
            var method = frames[i].GetMethod();
            sb.Append("   at ").Append(method is null ? "?" : $"{method.DeclaringType?.FullName}.{method.Name}()");
            if (Resolve(frames[i]) is var (file, line)) sb.Append(" in ").Append(file).Append(':').Append(line);
            sb.Append('\n');
        }
        if (frames.Length - start > max) sb.Append("   …\n");
        return sb.ToString().TrimEnd();
    }

    private static MetadataReaderProvider? Open(System.Reflection.Module module)
    {
        var path = module.Assembly.Location;
        if (string.IsNullOrEmpty(path) || !File.Exists(path)) return null;
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        return pe.TryOpenAssociatedPortablePdb(path, p => File.Exists(p) ? File.OpenRead(p) : null, out var provider, out _) ? provider : null;
    }
}
