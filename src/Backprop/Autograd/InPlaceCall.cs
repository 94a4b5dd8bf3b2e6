using System.Collections.Concurrent;

namespace Backprop;

/// <summary>
/// An in-place op called from a user's line, as recorded on the storage it changed. One shared instance per op and
/// line, so recording a write allocates nothing after the first time a line runs.
/// </summary>
internal sealed class InPlaceCall
{
    private static readonly ConcurrentDictionary<(string Op, string File, int Line), InPlaceCall> Calls = new();

    // Recent calls per thread, matched by reference: op names and caller-info file names are string literals, so a
    // loop finds its calls here without hashing a path.
    [ThreadStatic] private static InPlaceCall?[]? t_recent;

    private InPlaceCall(string op, string file, int line)
    {
        Op = op;
        File = file;
        Line = line;
    }

    public string Op { get; }

    public string File { get; }

    public int Line { get; }

    public static InPlaceCall Of(string op, string file, int line)
    {
        var recent = t_recent ??= new InPlaceCall?[8];
        ref var slot = ref recent[line & 7];
        if (slot is { } hit && hit.Line == line && ReferenceEquals(hit.File, file) && ReferenceEquals(hit.Op, op)) return hit;
        slot = Calls.GetOrAdd((op, file, line), static k => new InPlaceCall(k.Op, k.File, k.Line));
        return slot;
    }
}
