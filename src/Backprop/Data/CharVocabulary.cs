using System.Text;

namespace Backprop.Data;

/// <summary>
/// The characters of a text, each mapped to a token id: a character is one Unicode scalar value (a <see cref="Rune"/>),
/// so a letter outside the Basic Multilingual Plane is one token, not two UTF-16 halves. Ids follow the ordinal order
/// of the characters, so the same text always gives the same vocabulary.
/// </summary>
public sealed class CharVocabulary
{
    private readonly string[] _symbols;
    private readonly Dictionary<int, int> _ids = [];

    /// <param name="symbols">The characters in id order, each one Unicode scalar value, no repeats.</param>
    public CharVocabulary(IEnumerable<string> symbols)
    {
        ArgumentNullException.ThrowIfNull(symbols);
        _symbols = symbols.ToArray();
        if (_symbols.Length == 0) throw new ArgumentException("CharVocabulary: a vocabulary needs at least one character.", nameof(symbols));
        for (int id = 0; id < _symbols.Length; id++)
        {
            var symbol = _symbols[id];
            if (Rune.DecodeFromUtf16(symbol, out var rune, out int used) != System.Buffers.OperationStatus.Done || used != symbol.Length)
                throw new ArgumentException($"CharVocabulary: entry {id} ('{symbol}') is not exactly one Unicode character.", nameof(symbols));
            if (!_ids.TryAdd(rune.Value, id))
                throw new ArgumentException($"CharVocabulary: the character '{symbol}' appears twice (ids {_ids[rune.Value]} and {id}).", nameof(symbols));
        }
    }

    /// <summary>The distinct characters of <paramref name="text"/>, in ordinal order.</summary>
    public static CharVocabulary FromText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var distinct = new SortedSet<int>();
        foreach (var rune in text.EnumerateRunes()) distinct.Add(rune.Value);
        if (distinct.Count == 0) throw new ArgumentException("CharVocabulary: the text is empty.", nameof(text));
        return new CharVocabulary(distinct.Select(v => new Rune(v).ToString()));
    }

    /// <summary>The number of tokens.</summary>
    public int Count => _symbols.Length;

    /// <summary>The character of each id, in id order.</summary>
    public IReadOnlyList<string> Symbols => _symbols;

    /// <summary>Whether every character of <paramref name="text"/> has an id.</summary>
    public bool Covers(string text) => text.EnumerateRunes().All(r => _ids.ContainsKey(r.Value));

    /// <summary>The id of each character of <paramref name="text"/>; a character outside the vocabulary is an error naming it.</summary>
    public long[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<long>(text.Length);
        int position = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (!_ids.TryGetValue(rune.Value, out int id))
                throw new ArgumentException(
                    $"CharVocabulary: the character '{rune}' (U+{rune.Value:X4}) at position {position} is not in the vocabulary of {Count} characters.", nameof(text));
            ids.Add(id);
            position++;
        }
        return ids.ToArray();
    }

    /// <summary>The text of a sequence of ids.</summary>
    public string Decode(IEnumerable<long> ids)
    {
        var text = new StringBuilder();
        foreach (var id in ids)
        {
            if (id < 0 || id >= Count) throw new ArgumentOutOfRangeException(nameof(ids), $"CharVocabulary: id {id} is outside 0..{Count - 1}.");
            text.Append(_symbols[id]);
        }
        return text.ToString();
    }
}
