using System.Globalization;
using System.Text;
using Backprop.IO;

namespace Backprop.Data;

/// <summary>
/// Reads tabular data from CSV: a header row naming the columns, then one sample per line with numeric feature
/// columns and a target column (or feature columns only, for <see cref="ReadFeatures"/>). Fields may be
/// double-quoted ("" inside quotes is a quote); blank lines are skipped.
/// Bad input throws <see cref="MalformedFileException"/> naming the file, line and column.
/// </summary>
public static class CsvFile
{
    /// <param name="path">The CSV file.</param>
    /// <param name="targetColumn">The header name of the label or regression target column.</param>
    /// <param name="target">Whether the target is a class label (Int64) or a regression target (Float32).</param>
    /// <param name="featureColumns">The feature columns, in the order wanted; by default every column except the target.</param>
    /// <param name="classNames">For class labels given as names: the class of each index, so that a test file maps names
    /// the same way as the training file (pass the training table's <see cref="CsvTable.ClassNames"/>).</param>
    /// <param name="separator">The field separator.</param>
    public static CsvTable Read(string path, string targetColumn, CsvTarget target = CsvTarget.ClassLabel,
        IReadOnlyList<string>? featureColumns = null, IReadOnlyList<string>? classNames = null, char separator = ',')
    {
        ArgumentException.ThrowIfNullOrEmpty(targetColumn);
        var rows = ReadRows(path, targetColumn, featureColumns, separator);
        var (header, targetIndex) = (rows.Header, rows.TargetIndex);
        var featureTensor = rows.FeatureTensor();
        int count = rows.TargetText.Count;
        if (target == CsvTarget.Regression)
        {
            var values = new float[count];
            for (int r = 0; r < count; r++) values[r] = (float)ParseNumber(rows.TargetText[r], path, rows.TargetLines[r], targetIndex, header);
            return new CsvTable(featureTensor, new Tensor(Tensor.AdoptHostArray(values), [count]), rows.FeatureNames, targetColumn, null);
        }

        var (labels, names) = ClassIndices(rows.TargetText, rows.TargetLines, classNames, path, targetIndex, header);
        return new CsvTable(featureTensor, new Tensor(Tensor.AdoptHostArray(labels), [count]), rows.FeatureNames, targetColumn, names);
    }

    /// <summary>
    /// Reads feature columns only, for data without a target (inputs to classify): Float32 [rows, features], columns
    /// in the order of <paramref name="featureColumns"/> (by default every column, in the file's order).
    /// </summary>
    public static Tensor ReadFeatures(string path, IReadOnlyList<string>? featureColumns = null, char separator = ',') =>
        ReadRows(path, targetColumn: null, featureColumns, separator).FeatureTensor();

    /// <summary>The column names of the header row, so a caller can choose the feature and target columns before reading.</summary>
    public static IReadOnlyList<string> ReadHeader(string path, char separator = ',')
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return ReadHeaderRow(reader, path, separator, out _);
    }

    private static List<string> ReadHeaderRow(StreamReader reader, string path, char separator, out int lineNumber)
    {
        lineNumber = 0;
        string? line;
        do
        {
            line = reader.ReadLine();
            lineNumber++;
        }
        while (line is not null && string.IsNullOrWhiteSpace(line));
        if (line is null) throw new MalformedFileException(path, "the file is empty; expected a header row naming the columns");
        return Split(line, separator, path, lineNumber);
    }

    /// <summary>The header, the parsed feature values and the raw target fields (when a target column is named).</summary>
    private sealed record Rows(List<string> Header, string[] FeatureNames, List<float> Features, int TargetIndex,
        List<string> TargetText, List<int> TargetLines, int Count)
    {
        public Tensor FeatureTensor() => new(Tensor.AdoptHostArray(Features.ToArray()), [Count, FeatureNames.Length]);
    }

    private static Rows ReadRows(string path, string? targetColumn, IReadOnlyList<string>? featureColumns, char separator)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var header = ReadHeaderRow(reader, path, separator, out int lineNumber);
        var columns = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int c = 0; c < header.Count; c++)
            if (!columns.TryAdd(header[c], c))
                throw new MalformedFileException(path, $"line {lineNumber}: the header names column '{header[c]}' twice");

        int targetIndex = -1;
        if (targetColumn is not null && !columns.TryGetValue(targetColumn, out targetIndex))
            throw new MalformedFileException(path, $"no column '{targetColumn}' in the header (columns: {string.Join(", ", header)})");
        var featureNames = (featureColumns ?? header.Where(h => h != targetColumn).ToList()).ToArray();
        if (featureNames.Length == 0)
            throw new MalformedFileException(path, targetColumn is null ? "no feature columns" : "no feature columns: the header has only the target column");
        var featureIndex = new int[featureNames.Length];
        for (int f = 0; f < featureNames.Length; f++)
        {
            if (featureNames[f] == targetColumn)
                throw new ArgumentException($"CsvFile: column '{targetColumn}' cannot be both the target and a feature.", nameof(featureColumns));
            if (!columns.TryGetValue(featureNames[f], out featureIndex[f]))
                throw new MalformedFileException(path, $"no column '{featureNames[f]}' in the header (columns: {string.Join(", ", header)})");
        }

        var features = new List<float>();
        var targetText = new List<string>();
        var targetLines = new List<int>();
        int count = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var fields = Split(line, separator, path, lineNumber);
            if (fields.Count != header.Count)
                throw new MalformedFileException(path, $"line {lineNumber} has {fields.Count} fields; the header has {header.Count}");
            for (int f = 0; f < featureIndex.Length; f++)
                features.Add((float)ParseNumber(fields[featureIndex[f]], path, lineNumber, featureIndex[f], header));
            if (targetIndex >= 0)
            {
                targetText.Add(fields[targetIndex]);
                targetLines.Add(lineNumber);
            }
            count++;
        }
        return new Rows(header, featureNames, features, targetIndex, targetText, targetLines, count);
    }

    /// <summary>
    /// Non-negative integers are class indices as they stand; anything else is a class name, numbered in the order of
    /// <paramref name="given"/> or, without it, in sorted order (so files with the same classes agree).
    /// </summary>
    private static (long[] Labels, string[]? Names) ClassIndices(List<string> text, List<int> lines, IReadOnlyList<string>? given,
        string path, int column, List<string> header)
    {
        var labels = new long[text.Count];
        if (given is null)
        {
            bool numeric = true;
            for (int r = 0; r < text.Count && numeric; r++)
            {
                numeric = double.TryParse(text[r], NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
                    && v >= 0 && v == Math.Floor(v) && v <= int.MaxValue;
                if (numeric) labels[r] = (long)v;
            }
            if (numeric) return (labels, null);
        }

        var names = given?.ToArray() ?? text.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < names.Length; i++)
            if (!index.TryAdd(names[i], i)) throw new ArgumentException($"CsvFile: class name '{names[i]}' is given twice.", nameof(given));
        for (int r = 0; r < text.Count; r++)
        {
            if (!index.TryGetValue(text[r], out int label))
                throw new MalformedFileException(path,
                    $"line {lines[r]}, column {column + 1} ('{header[column]}'): '{text[r]}' is not one of the classes ({string.Join(", ", names)})");
            labels[r] = label;
        }
        return (labels, names);
    }

    private static double ParseNumber(string text, string path, int line, int column, List<string> header)
    {
        if (text.Length == 0) throw new MalformedFileException(path, $"line {line}, column {column + 1} ('{header[column]}'): the value is empty");
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
            throw new MalformedFileException(path, $"line {line}, column {column + 1} ('{header[column]}'): '{text}' is not a number");
        if (!double.IsFinite(value))
            throw new MalformedFileException(path, $"line {line}, column {column + 1} ('{header[column]}'): '{text}' is not a finite number");
        return value;
    }

    /// <summary>Splits one line into trimmed fields, honouring double quotes.</summary>
    private static List<string> Split(string line, char separator, string path, int lineNumber)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        int i = 0;
        while (true)
        {
            while (i < line.Length && line[i] != separator && char.IsWhiteSpace(line[i])) i++;
            field.Clear();
            if (i < line.Length && line[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= line.Length)
                        throw new MalformedFileException(path, $"line {lineNumber}: a quoted field is not closed (fields spanning lines are not supported)");
                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"')
                        {
                            field.Append('"');
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    field.Append(line[i++]);
                }
                while (i < line.Length && line[i] != separator && char.IsWhiteSpace(line[i])) i++;
                if (i < line.Length && line[i] != separator)
                    throw new MalformedFileException(path, $"line {lineNumber}, column {fields.Count + 1}: text follows a closing quote");
                fields.Add(field.ToString());
            }
            else
            {
                int start = i;
                while (i < line.Length && line[i] != separator) i++;
                fields.Add(line[start..i].Trim());
            }
            if (i >= line.Length) return fields;
            i++; // the separator
        }
    }
}
