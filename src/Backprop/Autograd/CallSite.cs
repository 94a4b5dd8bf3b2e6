using System.Runtime.CompilerServices;

namespace Backprop;

/// <summary>
/// A line of source that called into the library (a module's <c>Forward</c>, a functional loss, an in-place op,
/// <c>Backward</c>), taken from caller-info attributes: the compiler writes the file and line into the call as
/// constants, so recording them costs two field writes and no allocation.
/// </summary>
/// <remarks>
/// The innermost call from outside the library wins: <c>model.Forward(x)</c> in the user's loop names that line for
/// every node the model creates, while the library's own calls (Sequential calling its layers) leave it unchanged.
/// </remarks>
public readonly record struct CallSite(string File, int Line)
{
    /// <summary>This library's source folder as the compiler saw it (with a trailing separator).</summary>
    private static readonly string LibraryRoot = SourceRoot();

    /// <summary>Makes the caller's line current until disposed, unless the caller is the library itself.</summary>
    internal static NodeOrigin.Scope Enter(string file, int line) => NodeOrigin.EnterCall(file, line);

    /// <summary>Whether this is the library's own call rather than the user's.</summary>
    public bool IsLibrary => IsLibraryFile(File);

    /// <summary>Whether a source path is the library's own (so not a line worth showing a user).</summary>
    internal static bool IsLibraryFile(string? file) =>
        string.IsNullOrEmpty(file) || file.StartsWith(LibraryRoot, StringComparison.Ordinal);

    /// <summary><c>File:Line</c>.</summary>
    public override string ToString() => $"{File}:{Line}";

    private static string SourceRoot([CallerFilePath] string thisFile = "")
    {
        // This file is <root>/Autograd/CallSite.cs.
        var autograd = Path.GetDirectoryName(thisFile);
        var root = autograd is null ? null : Path.GetDirectoryName(autograd);
        if (string.IsNullOrEmpty(root)) return "\0"; // no path recorded: treat nothing as library code
        char separator = thisFile.Contains('\\') && !thisFile.Contains('/') ? '\\' : '/';
        return root.EndsWith(separator) ? root : root + separator;
    }
}
