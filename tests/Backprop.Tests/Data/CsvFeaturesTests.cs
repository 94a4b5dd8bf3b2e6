using Backprop.Data;
using Backprop.IO;
using Backprop.Tests.IO;

namespace Backprop.Tests.Data;

/// <summary>Reading a CSV's header alone, and its feature columns without a target (inputs to classify).</summary>
public class CsvFeaturesTests
{
    [Fact]
    public void The_header_lists_the_columns_after_leading_blank_lines()
    {
        using var dir = new TempDirectory();
        var path = dir.File("points.csv");
        File.WriteAllText(path, "\n\n x1 ,\"x 2\",label\n1,2,0\n");

        Assert.Equal(["x1", "x 2", "label"], CsvFile.ReadHeader(path));
    }

    [Fact]
    public void Features_without_a_target_are_every_column_or_the_ones_named_in_that_order()
    {
        using var dir = new TempDirectory();
        var path = dir.File("inputs.csv");
        File.WriteAllText(path, "a,b,c\n1,2,3\n\n4,5.5,-6\n");

        var all = CsvFile.ReadFeatures(path);
        Assert.Equal(new Shape(2, 3), all.Shape);
        Assert.Equal(new[] { 1f, 2f, 3f, 4f, 5.5f, -6f }, all.ToArray<float>());

        var chosen = CsvFile.ReadFeatures(path, ["c", "a"]);
        Assert.Equal(new Shape(2, 2), chosen.Shape);
        Assert.Equal(new[] { 3f, 1f, -6f, 4f }, chosen.ToArray<float>());
    }

    [Fact]
    public void Bad_feature_files_name_the_file_and_the_problem()
    {
        using var dir = new TempDirectory();
        var empty = dir.File("empty.csv");
        File.WriteAllText(empty, "\n");
        var e1 = Assert.Throws<MalformedFileException>(() => CsvFile.ReadHeader(empty));
        Assert.Contains("empty.csv: the file is empty", e1.Message);

        var text = dir.File("text.csv");
        File.WriteAllText(text, "a,b\n1,two\n");
        var e2 = Assert.Throws<MalformedFileException>(() => CsvFile.ReadFeatures(text));
        Assert.Contains("line 2, column 2 ('b'): 'two' is not a number", e2.Message);

        var e3 = Assert.Throws<MalformedFileException>(() => CsvFile.ReadFeatures(text, ["z"]));
        Assert.Contains("no column 'z'", e3.Message);
    }
}
