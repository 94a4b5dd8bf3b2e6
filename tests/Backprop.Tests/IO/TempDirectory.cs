namespace Backprop.Tests.IO;

/// <summary>A fresh directory under the system temp folder, deleted with its contents on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory() => FullName = Directory.CreateTempSubdirectory("backprop-tests-").FullName;

    public string FullName { get; }

    public string File(string name) => Path.Combine(FullName, name);

    public string[] Entries() => Directory.GetFileSystemEntries(FullName).Select(Path.GetFileName).Order().ToArray()!;

    public void Dispose()
    {
        try
        {
            Directory.Delete(FullName, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
