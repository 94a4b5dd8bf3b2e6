using Backprop.Data;

namespace Backprop.Tests.Data;

public class TextDatasetTests
{
    [Fact]
    public void Vocabulary_is_the_sorted_characters_and_round_trips_utf8_beyond_the_bmp()
    {
        const string text = "héllo 🙂 wörld";
        var vocabulary = CharVocabulary.FromText(text);
        Assert.Equal([" ", "d", "h", "l", "o", "r", "w", "é", "ö", "🙂"], vocabulary.Symbols);
        var ids = vocabulary.Encode(text);
        Assert.Equal(13, ids.Length); // the emoji is one token, not two UTF-16 halves
        Assert.Equal(text, vocabulary.Decode(ids));
    }

    [Fact]
    public void Unknown_characters_and_bad_vocabularies_are_named()
    {
        var vocabulary = CharVocabulary.FromText("abc");
        var e = Assert.Throws<ArgumentException>(() => vocabulary.Encode("abz"));
        Assert.Contains("'z'", e.Message);
        Assert.Contains("position 2", e.Message);
        Assert.Throws<ArgumentException>(() => new CharVocabulary(["a", "a"]));
        Assert.Throws<ArgumentException>(() => new CharVocabulary(["ab"]));
        Assert.Throws<ArgumentOutOfRangeException>(() => vocabulary.Decode([3]));
    }

    [Fact]
    public void The_split_is_contiguous_and_batches_pair_each_input_with_the_next_character()
    {
        var text = string.Concat(Enumerable.Range(0, 100).Select(i => (char)('a' + i % 26)));
        var data = new TextDataset(text, validationFraction: 0.2);
        Assert.Equal(80, data.Train.Length);
        Assert.Equal(20, data.Validation.Length);
        Assert.Equal(text[80..], data.Vocabulary.Decode(data.Validation.ToArray()));

        var batches = data.TrainBatches(batchSize: 3, sequenceLength: 7, new Generator(5)).ToList();
        Assert.True(batches.Count <= data.TrainBatchesPerEpoch(3, 7) && batches.Count >= data.TrainBatchesPerEpoch(3, 7) - 1);
        foreach (var (inputs, targets) in batches)
        {
            Assert.Equal(DType.Int64, inputs.DType);
            Assert.Equal(7, inputs.Size(1));
            var x = inputs.ToArray<long>();
            var y = targets.ToArray<long>();
            for (int r = 0; r < inputs.Size(0); r++)
            {
                var window = data.Vocabulary.Decode(x.Skip(r * 7).Take(7));
                var next = data.Vocabulary.Decode(y.Skip(r * 7).Take(7));
                int at = text.IndexOf(window, StringComparison.Ordinal);
                Assert.True(at >= 0 && at + 8 <= 80, $"window '{window}' is not inside the training text");
                Assert.Equal(window[1..], next[..^1]);
            }
        }
        // The same seed gives the same epoch; another seed a different order.
        var again = data.TrainBatches(3, 7, new Generator(5)).Select(b => b.Inputs.ToArray<long>()).ToList();
        Assert.Equal(batches.Select(b => b.Inputs.ToArray<long>()), again);
    }

    [Fact]
    public void Validation_windows_cover_the_validation_text_in_order()
    {
        var text = string.Concat(Enumerable.Range(0, 200).Select(i => (char)('a' + i * 7 % 26)));
        var data = new TextDataset(text, validationFraction: 0.25);
        var inputs = data.ValidationBatches(batchSize: 2, sequenceLength: 8).SelectMany(b => b.Inputs.ToArray<long>()).ToArray();
        Assert.Equal((50 - 1) / 8 * 8, inputs.Length);
        Assert.Equal(data.Validation.ToArray()[..inputs.Length], inputs);
    }

    [Fact]
    public void A_text_too_short_to_split_and_invalid_utf8_are_errors()
    {
        Assert.Throws<ArgumentException>(() => new TextDataset("abcd", validationFraction: 0.1));
        var path = Path.Combine(Path.GetTempPath(), $"bad-utf8-{Guid.NewGuid():N}.txt");
        File.WriteAllBytes(path, [0x61, 0xff, 0x62]);
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => TextDataset.FromFile(path));
            Assert.Contains(path, e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_generated_corpus_repeats_for_a_seed_and_is_english_sentences()
    {
        var text = TextCorpus.Generate(5_000, seed: 3);
        Assert.True(text.Length >= 5_000);
        Assert.Equal(text, TextCorpus.Generate(5_000, seed: 3));
        Assert.NotEqual(text, TextCorpus.Generate(5_000, seed: 4));
        Assert.Contains(". ", text);
        Assert.True(CharVocabulary.FromText(text).Count < 40);
    }
}
