using Backprop.Data;

namespace Backprop.Tests.Data;

public class AddingProblemTests
{
    [Fact]
    public void Each_sample_marks_one_step_in_each_half_and_its_target_is_the_sum_of_the_marked_values()
    {
        const int count = 200, length = 9;
        var data = AddingProblem.Create(count, length, seed: 4);
        var (x, y) = (data.Tensors[0], data.Tensors[1]);
        Assert.Equal(new Shape(count, length, 2), x.Shape);
        Assert.Equal(new Shape(count, 1), y.Shape);
        Assert.Equal(DType.Float32, x.DType);
        var features = x.ToArray<float>();
        var targets = y.ToArray<float>();
        var firstPositions = new HashSet<int>();
        for (int n = 0; n < count; n++)
        {
            var marked = Enumerable.Range(0, length).Where(t => features[(n * length + t) * 2 + 1] != 0).ToArray();
            Assert.Equal(2, marked.Length);
            Assert.True(marked[0] < length / 2 && marked[1] >= length / 2, $"sample {n}: markers at {marked[0]} and {marked[1]}");
            Assert.All(marked, t => Assert.Equal(1f, features[(n * length + t) * 2 + 1]));
            Assert.Equal(features[(n * length + marked[0]) * 2] + features[(n * length + marked[1]) * 2], targets[n]);
            for (int t = 0; t < length; t++)
            {
                float value = features[(n * length + t) * 2];
                Assert.True(value >= 0 && value < 1, $"value {value} outside [0, 1)");
            }
            firstPositions.Add(marked[0]);
        }
        Assert.Equal(length / 2, firstPositions.Count);
        Assert.Equal(features, AddingProblem.Create(count, length, seed: 4).Tensors[0].ToArray<float>());
        Assert.NotEqual(features, AddingProblem.Create(count, length, seed: 5).Tensors[0].ToArray<float>());
    }

    [Fact]
    public void Predicting_the_mean_scores_the_baseline()
    {
        var targets = AddingProblem.Create(20000, 10, seed: 1).Tensors[1].ToArray<float>();
        double mean = targets.Average(v => (double)v);
        double mse = targets.Average(v => (v - 1.0) * (v - 1.0));
        Assert.True(Math.Abs(mean - 1) < 0.01, $"mean target {mean}");
        Assert.True(Math.Abs(mse - AddingProblem.MeanBaselineMse) < 0.01, $"MSE of predicting 1: {mse}, expected about {AddingProblem.MeanBaselineMse}");
    }

    [Fact]
    public void A_sequence_too_short_for_two_markers_is_refused()
    {
        Assert.Contains("at least 2 steps", Assert.Throws<ArgumentOutOfRangeException>(() => AddingProblem.Create(4, 1)).Message);
    }
}
