using System.Text;

namespace Backprop.Data;

/// <summary>Inputs and next-character targets, both Int64 [batch, time]: Targets[b, t] is the character after Inputs[b, t].</summary>
public readonly record struct TextBatch(Tensor Inputs, Tensor Targets);

/// <summary>
/// A text as character tokens for language modelling, split into a training part (the first characters) and a
/// validation part (the last <c>validationFraction</c>), served as batches of [batch, time] windows.
/// </summary>
/// <remarks>
/// The split is contiguous, not shuffled: shuffled sentences would put the validation text's neighbours in the
/// training set. The vocabulary covers the whole text, so every validation character has an id.
/// </remarks>
public sealed class TextDataset
{
    private readonly long[] _train;
    private readonly long[] _validation;

    public TextDataset(string text, double validationFraction = 0.1, CharVocabulary? vocabulary = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!(validationFraction > 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), $"TextDataset: validationFraction must lie in (0, 1); got {validationFraction}.");
        Vocabulary = vocabulary ?? CharVocabulary.FromText(text);
        var tokens = Vocabulary.Encode(text);
        int validation = (int)Math.Round(tokens.Length * validationFraction);
        int train = tokens.Length - validation;
        if (train < 2 || validation < 2)
            throw new ArgumentException(
                $"TextDataset: a text of {tokens.Length} characters leaves {train} for training and {validation} for validation; each part needs at least 2.", nameof(text));
        _train = tokens[..train];
        _validation = tokens[train..];
    }

    /// <summary>Reads a UTF-8 file (an invalid byte sequence is an error naming the file).</summary>
    public static TextDataset FromFile(string path, double validationFraction = 0.1)
    {
        string text;
        try
        {
            text = File.ReadAllText(path, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true));
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException($"TextDataset: '{path}' is not valid UTF-8: {e.Message}", e);
        }
        return new TextDataset(text, validationFraction);
    }

    public CharVocabulary Vocabulary { get; }

    /// <summary>The training characters' ids.</summary>
    public ReadOnlyMemory<long> Train => _train;

    /// <summary>The validation characters' ids.</summary>
    public ReadOnlyMemory<long> Validation => _validation;

    /// <summary>How many batches <see cref="TrainBatches"/> yields at most (one fewer when its random offset drops the last window).</summary>
    public int TrainBatchesPerEpoch(int batchSize, int sequenceLength)
    {
        CheckSizes(batchSize, sequenceLength);
        int windows = WindowCount(_train.Length, sequenceLength, offset: 0);
        return (windows + batchSize - 1) / batchSize;
    }

    /// <summary>
    /// One epoch: the training text cut into non-overlapping windows of <paramref name="sequenceLength"/> characters
    /// from a random offset below <paramref name="sequenceLength"/>, in random order, <paramref name="batchSize"/>
    /// windows a batch (the last batch may be smaller). The generator makes the order repeat with its seed.
    /// </summary>
    public IEnumerable<TextBatch> TrainBatches(int batchSize, int sequenceLength, Generator? generator = null)
    {
        CheckSizes(batchSize, sequenceLength);
        generator ??= Generator.Default;
        int length = Math.Min(sequenceLength, _train.Length - 1);
        int offset = (int)generator.NextInt64(Math.Max(1, Math.Min(sequenceLength, _train.Length - length)));
        int windows = WindowCount(_train.Length, length, offset);
        var starts = new int[windows];
        for (int i = 0; i < windows; i++) starts[i] = offset + i * length;
        for (int i = windows - 1; i > 0; i--)
        {
            int j = (int)generator.NextInt64(i + 1);
            (starts[i], starts[j]) = (starts[j], starts[i]);
        }
        return Batches(_train, starts, length, batchSize);
    }

    /// <summary>
    /// The validation text in order as consecutive windows of <paramref name="sequenceLength"/> characters (shorter
    /// when the text is), <paramref name="batchSize"/> windows a batch; characters past the last whole window are left out.
    /// </summary>
    public IEnumerable<TextBatch> ValidationBatches(int batchSize, int sequenceLength)
    {
        CheckSizes(batchSize, sequenceLength);
        int length = Math.Min(sequenceLength, _validation.Length - 1);
        int windows = WindowCount(_validation.Length, length, offset: 0);
        return Batches(_validation, Enumerable.Range(0, windows).Select(i => i * length).ToArray(), length, batchSize);
    }

    private static IEnumerable<TextBatch> Batches(long[] tokens, int[] starts, int length, int batchSize)
    {
        for (int first = 0; first < starts.Length; first += batchSize)
        {
            int rows = Math.Min(batchSize, starts.Length - first);
            var inputs = new long[rows * length];
            var targets = new long[rows * length];
            for (int r = 0; r < rows; r++)
            {
                Array.Copy(tokens, starts[first + r], inputs, r * length, length);
                Array.Copy(tokens, starts[first + r] + 1, targets, r * length, length);
            }
            yield return new TextBatch(Tensor.FromArray(inputs, rows, length), Tensor.FromArray(targets, rows, length));
        }
    }

    /// <summary>Windows of <paramref name="length"/> inputs, each needing one more character for its last target.</summary>
    private static int WindowCount(int tokens, int length, int offset)
    {
        length = Math.Min(length, tokens - 1);
        return (tokens - 1 - offset) / length;
    }

    private static void CheckSizes(int batchSize, int sequenceLength)
    {
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), $"TextDataset: batchSize must be positive; got {batchSize}.");
        if (sequenceLength <= 0) throw new ArgumentOutOfRangeException(nameof(sequenceLength), $"TextDataset: sequenceLength must be positive; got {sequenceLength}.");
    }
}
