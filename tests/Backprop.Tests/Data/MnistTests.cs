using Backprop.Data;
using Backprop.IO;
using Backprop.Tests.IO;

namespace Backprop.Tests.Data;

public class MnistTests
{
    [Fact]
    public void Loads_the_bundled_training_split_as_images_in_unit_range_and_int64_labels()
    {
        var train = Mnist.Load(BundledMnist.Directory, MnistSplit.Train);
        var images = train.Tensors[0];
        var labels = train.Tensors[1];

        Assert.Equal(7996, train.Count);
        Assert.Equal(new Shape(7996, 1, 28, 28), images.Shape);
        Assert.Equal(DType.Float32, images.DType);
        Assert.Equal(new Shape(7996), labels.Shape);
        Assert.Equal(DType.Int64, labels.DType);
        Assert.Equal(0.0, images.Min().Item());
        Assert.Equal(1.0, images.Max().Item());
        // The subset's mean pixel is close to full MNIST's 0.1307 (0.13088 by an independent count), and Mean is
        // accurate to float32 rounding against a float64 sum of the same pixels, on any SIMD width.
        double reference = 0;
        foreach (var pixel in images.ToArray<float>()) reference += pixel;
        reference /= images.NumElements;
        Assert.True(Math.Abs(reference - 0.13088) <= 1e-5, $"reference mean {reference}");
        double mean = images.Mean().Item();
        Assert.True(Math.Abs(mean - reference) <= 1e-6 * reference, $"Mean {mean} vs float64 reference {reference}");
        Assert.Equal(253 / 255.0, images[0, 0, 14, 14].Item(), 6);
        Assert.Equal(1, labels[0].Item<long>());
    }

    [Fact]
    public void Test_split_flattened_and_normalized()
    {
        var test = Mnist.Load(BundledMnist.Directory, MnistSplit.Test, flatten: true, normalize: true);
        var images = test.Tensors[0];

        Assert.Equal(new Shape(2004, 784), images.Shape);
        Assert.Equal((0 - Mnist.Mean) / Mnist.Std, images.Min().Item(), 5);
        Assert.Equal((1 - Mnist.Mean) / Mnist.Std, images.Max().Item(), 5);
        Assert.Equal((254 / 255.0 - Mnist.Mean) / Mnist.Std, images[0].Max().Item(), 5);
        Assert.Equal(new long[] { 1, 2, 9, 9, 4 }, test.Tensors[1].ToArray<long>()[..5]);
    }

    [Fact]
    public void A_labels_file_given_as_images_fails_on_its_dimension_count()
    {
        var path = BundledMnist.File("train-labels-idx1-ubyte.gz");

        var e = Assert.Throws<MalformedFileException>(() => Mnist.ReadImages(path));

        Assert.StartsWith(path + ":", e.Message);
        Assert.Contains("expected 3 dimensions (images × rows × columns), found 1 (7996)", e.Message);
    }

    [Fact]
    public void Missing_files_are_listed_by_the_names_looked_for()
    {
        using var dir = new TempDirectory();

        var e = Assert.Throws<FileNotFoundException>(() => Mnist.Load(dir.FullName, MnistSplit.Test));

        Assert.Contains("t10k-images-idx3-ubyte.gz", e.Message);
        Assert.Contains("test-images-idx3-ubyte", e.Message);
        Assert.Contains(dir.FullName, e.Message);
    }

    [Fact]
    public void Image_and_label_counts_must_agree_and_labels_must_be_digits()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("train-images-idx3-ubyte"), [.. IdxFileTests.Header(0x08, 3, 2, 2), .. new byte[12]]);
        File.WriteAllBytes(dir.File("train-labels-idx1-ubyte"), [.. IdxFileTests.Header(0x08, 2), 4, 7]);

        var mismatch = Assert.Throws<MalformedFileException>(() => Mnist.Load(dir.FullName, MnistSplit.Train));
        Assert.Contains("holds 2 labels but train-images-idx3-ubyte holds 3 images", mismatch.Message);

        File.WriteAllBytes(dir.File("train-labels-idx1-ubyte"), [.. IdxFileTests.Header(0x08, 3), 4, 12, 7]);
        var badLabel = Assert.Throws<MalformedFileException>(() => Mnist.Load(dir.FullName, MnistSplit.Train));
        Assert.Contains("label 12 of sample 1 is not a digit", badLabel.Message);
    }
}
