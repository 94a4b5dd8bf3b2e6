using Backprop.IO;

namespace Backprop.Data;

/// <summary>
/// MNIST handwritten digits from IDX files: images as Float32 in [0, 1] (optionally standardised with MNIST's mean and
/// standard deviation), shaped [N, 1, rows, columns] or flattened to [N, rows·columns], and labels as Int64 [N].
/// Works for any dataset in MNIST's layout (Fashion-MNIST, KMNIST).
/// </summary>
public static class Mnist
{
    /// <summary>Mean pixel value of the MNIST training set, after scaling to [0, 1].</summary>
    public const double Mean = 0.1307;

    /// <summary>Standard deviation of the MNIST training set's pixels, after scaling to [0, 1].</summary>
    public const double Std = 0.3081;

    /// <summary>
    /// Where the CLI's bundled subset (7,996 training and 2,004 test digits, MIT licence) lies: <c>Data/mnist-10k</c>
    /// next to the application.
    /// </summary>
    public static string BundledDirectory => Path.Combine(AppContext.BaseDirectory, "Data", "mnist-10k");

    /// <summary>
    /// Loads one split from <paramref name="directory"/>, which holds the usual files
    /// (<c>train-images-idx3-ubyte</c>, <c>train-labels-idx1-ubyte</c>, <c>t10k-…</c> or <c>test-…</c> for the test
    /// split; gzip-compressed or not; <c>.idx3-ubyte</c> spellings also found).
    /// </summary>
    /// <param name="flatten">Images as [N, rows·columns] rather than [N, 1, rows, columns].</param>
    /// <param name="normalize">Subtract <see cref="Mean"/> and divide by <see cref="Std"/> after scaling to [0, 1].</param>
    /// <returns>A dataset of (image, label) samples.</returns>
    public static TensorDataset Load(string directory, MnistSplit split, bool flatten = false, bool normalize = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"MNIST: the directory '{directory}' does not exist.");
        var imagesPath = Find(directory, split, "images", "idx3");
        var labelsPath = Find(directory, split, "labels", "idx1");
        var images = ReadImages(imagesPath, flatten, normalize);
        var labels = ReadLabels(labelsPath);
        if (images.Size(0) != labels.Size(0))
            throw new MalformedFileException(labelsPath, $"holds {labels.Size(0)} labels but {Path.GetFileName(imagesPath)} holds {images.Size(0)} images");
        return new TensorDataset(images, labels);
    }

    /// <summary>Reads an IDX file of unsigned-byte images [N, rows, columns] as Float32 scaled to [0, 1].</summary>
    public static Tensor ReadImages(string path, bool flatten = false, bool normalize = false)
    {
        var idx = IdxFile.Read(path);
        if (idx.ElementType != IdxElementType.UnsignedByte)
            throw new MalformedFileException(path, $"expected unsigned-byte pixels (element type 0x08), found {idx.ElementType}");
        if (idx.Dimensions.Count != 3)
            throw new MalformedFileException(path,
                $"expected 3 dimensions (images × rows × columns), found {idx.Dimensions.Count} ({string.Join(" × ", idx.Dimensions)}); is this a labels file?");
        var pixels = idx.Decode<float>();
        // The [0, 255] → [0, 1] scaling and the standardisation folded into x·a + b.
        TensorPrimitives.Multiply(pixels, normalize ? (float)(1.0 / (255.0 * Std)) : 1f / 255f, pixels);
        if (normalize) TensorPrimitives.Add(pixels, (float)(-Mean / Std), pixels);
        int n = idx.Dimensions[0], rows = idx.Dimensions[1], columns = idx.Dimensions[2];
        int[] shape = flatten ? [n, rows * columns] : [n, 1, rows, columns];
        return new Tensor(Tensor.AdoptHostArray(pixels), shape);
    }

    /// <summary>Reads an IDX file of unsigned-byte digit labels [N] as Int64; every label must be 0–9.</summary>
    public static Tensor ReadLabels(string path)
    {
        var idx = IdxFile.Read(path);
        if (idx.ElementType != IdxElementType.UnsignedByte)
            throw new MalformedFileException(path, $"expected unsigned-byte labels (element type 0x08), found {idx.ElementType}");
        if (idx.Dimensions.Count != 1)
            throw new MalformedFileException(path,
                $"expected 1 dimension (labels), found {idx.Dimensions.Count} ({string.Join(" × ", idx.Dimensions)}); is this an images file?");
        var raw = idx.RawData;
        for (int i = 0; i < raw.Length; i++)
            if (raw[i] > 9) throw new MalformedFileException(path, $"label {raw[i]} of sample {i} is not a digit 0–9");
        return idx.ToTensor(DType.Int64);
    }

    private static string Find(string directory, MnistSplit split, string kind, string idx)
    {
        string[] prefixes = split == MnistSplit.Train ? ["train"] : ["t10k", "test"];
        var names = new List<string>();
        foreach (var prefix in prefixes)
        foreach (var separator in new[] { "-", "." })
        {
            var name = $"{prefix}-{kind}{separator}{idx}-ubyte";
            names.Add(name);
            names.Add(name + ".gz");
        }
        foreach (var name in names)
        {
            var path = Path.Combine(directory, name);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException(
            $"MNIST: no {split.ToString().ToLowerInvariant()} {kind} file in '{directory}' (looked for {string.Join(", ", names)}).");
    }
}
