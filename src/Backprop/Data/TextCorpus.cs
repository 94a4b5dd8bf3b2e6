using System.Text;

namespace Backprop.Data;

/// <summary>
/// A small English text generated from a fixed grammar and word list, for trying a character model without a file:
/// it is written by this library (no licence question), has real words, spaces and punctuation, and repeats exactly
/// for a seed. A model that learns it spells the words and follows the sentence pattern.
/// </summary>
public static class TextCorpus
{
    private static readonly string[] Subjects =
        ["the cat", "the dog", "a small bird", "the old man", "my sister", "the farmer", "a young fox", "the teacher", "our neighbour", "the king"];

    private static readonly string[] Verbs = ["sees", "finds", "follows", "paints", "watches", "remembers", "carries", "calls", "likes", "visits"];

    private static readonly string[] Objects =
        ["the river", "a green apple", "the quiet house", "a long letter", "the red door", "the little boat", "a warm coat", "the garden", "the bright moon", "an open window"];

    private static readonly string[] Endings =
        ["", " in the morning", " after the rain", " near the hill", " every day", " with great care", " before dinner", " at night"];

    /// <summary>Sentences of the grammar until the text holds at least <paramref name="characters"/> characters.</summary>
    public static string Generate(int characters = 60_000, ulong seed = 0)
    {
        if (characters <= 0) throw new ArgumentOutOfRangeException(nameof(characters), $"TextCorpus: characters must be positive; got {characters}.");
        var random = new Generator(seed);
        string Pick(string[] words) => words[random.NextInt64(words.Length)];
        var text = new StringBuilder(characters + 100);
        while (text.Length < characters)
        {
            var sentence = $"{Pick(Subjects)} {Pick(Verbs)} {Pick(Objects)}{Pick(Endings)}";
            // One sentence in four joins a second clause, so punctuation and "and" carry some structure too.
            if (random.NextInt64(4) == 0) sentence += $", and {Pick(Subjects)} {Pick(Verbs)} {Pick(Objects)}";
            text.Append(char.ToUpperInvariant(sentence[0])).Append(sentence, 1, sentence.Length - 1);
            text.Append(random.NextInt64(6) == 0 ? ".\n" : ". ");
        }
        return text.ToString();
    }
}
