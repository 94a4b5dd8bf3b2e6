namespace Backprop.IO;

/// <summary>
/// A file that cannot be read as its format requires (a truncated download, a wrong file, a corrupt header). The
/// message starts with the file's path and says what is wrong, e.g.
/// <c>train-images-idx3-ubyte.gz: expected 6272000 bytes of data after the 16-byte header, found 1000 (file truncated?)</c>.
/// </summary>
public sealed class MalformedFileException : IOException
{
    public MalformedFileException(string path, string problem, Exception? innerException = null)
        : base($"{path}: {problem}", innerException)
    {
        FilePath = path;
        Problem = problem;
    }

    /// <summary>The path of the file as it was given to the reader.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong, without the path.</summary>
    public string Problem { get; }
}
