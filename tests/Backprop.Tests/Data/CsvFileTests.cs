using Backprop.Data;
using Backprop.IO;
using Backprop.Tests.IO;

namespace Backprop.Tests.Data;

public class CsvFileTests
{
    private static string Write(TempDirectory dir, string name, string text)
    {
        var path = dir.File(name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Reads_numeric_features_and_integer_class_labels()
    {
        using var dir = new TempDirectory();
        var path = Write(dir, "points.csv", "x, y ,label\n1.5,2,0\n-3,4e-1,2\n\n0.25, 7 ,1\n");

        var table = CsvFile.Read(path, "label");

        Assert.Equal(3, table.Count);
        Assert.Equal(["x", "y"], table.FeatureNames);
        Assert.Equal(new Shape(3, 2), table.Features.Shape);
        Assert.Equal(new[] { 1.5f, 2f, -3f, 0.4f, 0.25f, 7f }, table.Features.ToArray<float>());
        Assert.Equal(DType.Int64, table.Targets.DType);
        Assert.Equal(new long[] { 0, 2, 1 }, table.Targets.ToArray<long>());
        Assert.Null(table.ClassNames);
        Assert.Equal(3, table.ToDataset().Count);
    }

    [Fact]
    public void Class_names_are_numbered_in_sorted_order_and_can_be_given_for_a_second_file()
    {
        using var dir = new TempDirectory();
        var train = Write(dir, "train.csv", "species,petal\nvirginica,5.1\nsetosa,1.4\nversicolor,4.0\nsetosa,1.3\n");
        var test = Write(dir, "test.csv", "species,petal\nversicolor,4.1\nvirginica,5.0\n");

        var trainTable = CsvFile.Read(train, "species");
        var testTable = CsvFile.Read(test, "species", classNames: trainTable.ClassNames);

        Assert.Equal(["setosa", "versicolor", "virginica"], trainTable.ClassNames!);
        Assert.Equal(new long[] { 2, 0, 1, 0 }, trainTable.Targets.ToArray<long>());
        Assert.Equal(new long[] { 1, 2 }, testTable.Targets.ToArray<long>());
        Assert.Equal(["petal"], trainTable.FeatureNames);
    }

    [Fact]
    public void An_unknown_class_names_line_and_column()
    {
        using var dir = new TempDirectory();
        var path = Write(dir, "test.csv", "species,petal\nsetosa,1.4\nrosa,2.0\n");

        var e = Assert.Throws<MalformedFileException>(() => CsvFile.Read(path, "species", classNames: ["setosa", "virginica"]));

        Assert.Equal($"{path}: line 3, column 1 ('species'): 'rosa' is not one of the classes (setosa, virginica)", e.Message);
    }

    [Fact]
    public void Regression_targets_are_float32_and_feature_columns_can_be_chosen()
    {
        using var dir = new TempDirectory();
        var path = Write(dir, "houses.csv", "id,rooms,area,price\n1,3,70.5,250.5\n2,4,90,310\n");

        var table = CsvFile.Read(path, "price", CsvTarget.Regression, featureColumns: ["area", "rooms"]);

        Assert.Equal(["area", "rooms"], table.FeatureNames);
        Assert.Equal(new[] { 70.5f, 3f, 90f, 4f }, table.Features.ToArray<float>());
        Assert.Equal(DType.Float32, table.Targets.DType);
        Assert.Equal(new[] { 250.5f, 310f }, table.Targets.ToArray<float>());
    }

    [Fact]
    public void Quoted_fields_may_hold_separators_and_quotes()
    {
        using var dir = new TempDirectory();
        var path = Write(dir, "quoted.csv", "\"a,b\",label\n\"1.5\",\"say \"\"hi\"\"\"\n2,plain\n");

        var table = CsvFile.Read(path, "label");

        Assert.Equal(["a,b"], table.FeatureNames);
        Assert.Equal(["plain", "say \"hi\""], table.ClassNames!);
        Assert.Equal(new long[] { 1, 0 }, table.Targets.ToArray<long>());
    }

    [Fact]
    public void A_bad_value_names_the_file_line_and_column()
    {
        using var dir = new TempDirectory();
        var path = Write(dir, "bad.csv", "a,b,label\n1,2,0\n\n3,abc,1\n");

        var e = Assert.Throws<MalformedFileException>(() => CsvFile.Read(path, "label"));

        Assert.Equal($"{path}: line 4, column 2 ('b'): 'abc' is not a number", e.Message);
    }

    [Theory]
    [InlineData("a,label\n1,0\n2\n", "line 3 has 1 fields; the header has 2")]
    [InlineData("a,label\n,0\n", "line 2, column 1 ('a'): the value is empty")]
    [InlineData("a,label\nNaN,0\n", "line 2, column 1 ('a'): 'NaN' is not a finite number")]
    [InlineData("a,label\n\"1,0\n", "line 2: a quoted field is not closed")]
    [InlineData("a,a,label\n1,2,0\n", "line 1: the header names column 'a' twice")]
    [InlineData("a,b\n1,2\n", "no column 'label' in the header (columns: a, b)")]
    [InlineData("", "the file is empty")]
    public void Malformed_files_are_reported_precisely(string text, string problem)
    {
        using var dir = new TempDirectory();
        var path = Write(dir, "data.csv", text);

        var e = Assert.Throws<MalformedFileException>(() => CsvFile.Read(path, "label"));

        Assert.Equal(path, e.FilePath);
        Assert.StartsWith(problem, e.Problem);
    }
}
