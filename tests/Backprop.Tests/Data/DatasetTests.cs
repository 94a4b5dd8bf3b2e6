using Backprop.Data;

namespace Backprop.Tests.Data;

public class DatasetTests
{
    /// <summary>A dataset with no batch gathering of its own: the base class stacks its samples.</summary>
    private sealed class Squares(int count) : Dataset
    {
        public override int Count => count;

        public override Tensor[] this[int index]
        {
            get
            {
                CheckIndex(index);
                return [Tensor.FromArray(new float[] { index, index * index }), Tensor.Scalar(index % 2, DType.Int64)];
            }
        }
    }

    [Fact]
    public void The_default_batch_stacks_samples_along_a_new_first_dimension()
    {
        var batch = new Squares(6).GetBatch([4, 1, 3]);

        Assert.Equal(new Shape(3, 2), batch[0].Shape);
        Assert.Equal(new float[] { 4, 16, 1, 1, 3, 9 }, batch[0].ToArray<float>());
        Assert.Equal(new long[] { 0, 1, 1 }, batch[1].ToArray<long>());
    }

    [Fact]
    public void A_loader_over_a_sample_dataset_yields_stacked_batches()
    {
        var loader = new DataLoader(new Squares(5), batchSize: 2);

        var sizes = loader.Select(b => b.Inputs.Shape).ToList();

        Assert.Equal([new Shape(2, 2), new Shape(2, 2), new Shape(1, 2)], sizes);
    }

    [Fact]
    public void Tensor_dataset_rows_and_batches_come_from_dimension_zero()
    {
        var x = Tensor.Arange(24).Reshape(6, 2, 2);
        var y = Tensor.FromArray(new long[] { 5, 4, 3, 2, 1, 0 });
        var dataset = new TensorDataset(x, y);

        var sample = dataset[2];
        var batch = dataset.GetBatch([5, 0]);

        Assert.Equal(6, dataset.Count);
        Assert.Equal(new float[] { 8, 9, 10, 11 }, sample[0].ToArray<float>());
        Assert.Equal(3, sample[1].Item<long>());
        Assert.Equal(new Shape(2, 2, 2), batch[0].Shape);
        Assert.Equal(new float[] { 20, 21, 22, 23, 0, 1, 2, 3 }, batch[0].ToArray<float>());
        Assert.Equal(new long[] { 0, 5 }, batch[1].ToArray<long>());
    }

    [Fact]
    public void Tensor_dataset_rejects_tensors_of_different_lengths_and_bad_indices()
    {
        var e = Assert.Throws<ShapeMismatchException>(() => new TensorDataset(Tensor.Zeros(4, 3), Tensor.Zeros(5)));
        Assert.Contains("[4, 3]", e.Message);
        Assert.Contains("[5]", e.Message);

        var dataset = new TensorDataset(Tensor.Zeros(4, 3));
        var index = Assert.Throws<IndexOutOfRangeException>(() => dataset.GetBatch([1, 4]));
        Assert.Contains("index 4 is out of range for 4 samples", index.Message);
    }

    [Fact]
    public void Random_split_gives_disjoint_subsets_covering_the_dataset_and_keeps_batches_fast()
    {
        var dataset = new TensorDataset(Tensor.Arange(20, DType.Int64));

        var (first, second) = dataset.RandomSplit(15, new Generator(9));
        var (again, _) = dataset.RandomSplit(15, new Generator(9));

        Assert.Equal(15, first.Count);
        Assert.Equal(5, second.Count);
        Assert.Equal(Enumerable.Range(0, 20), first.Indices.Concat(second.Indices).Order());
        Assert.Equal(first.Indices, again.Indices);
        var batch = second.GetBatch([0, 4]);
        Assert.Equal(new long[] { second.Indices[0], second.Indices[4] }, batch[0].ToArray<long>());
    }

    [Fact]
    public void Batch_deconstructs_into_inputs_and_targets_only_with_two_fields()
    {
        var pair = new Batch([Tensor.Zeros(2, 3), Tensor.Ones(2)], [0, 1]);
        var single = new Batch([Tensor.Zeros(2, 3)], [0, 1]);

        var (x, y) = pair;

        Assert.Equal(new Shape(2, 3), x.Shape);
        Assert.Equal(new Shape(2), y.Shape);
        Assert.Throws<InvalidOperationException>(() => single.Targets);
        Assert.Throws<InvalidOperationException>(() => { var (a, b) = single; });
    }
}
