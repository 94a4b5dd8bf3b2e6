using Backprop.Diagnostics;
using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Tests.Nn;

public class TruncatedBpttTests
{
    private const int Batch = 3, InputSize = 2, Hidden = 4;

    private static (Tensor X, Tensor Y) Sequence(int length, ulong seed = 11, DType dtype = DType.Float64)
    {
        var generator = new Generator(seed);
        return (Tensor.Randn([length, Batch, InputSize], dtype, generator), Tensor.Randn([length, Batch, Hidden], dtype, generator));
    }

    private static double[] Values(SmallTanhRnn model) => model.Parameters().SelectMany(p => p.ToArray<double>()).ToArray();

    private static double[] Gradients(SmallTanhRnn model) => model.Parameters().SelectMany(p => p.Grad!.ToArray<double>()).ToArray();

    private static void AssertClose(double[] expected, double[] actual, double relative, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(Math.Abs);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= relative * scale, $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
    }

    [Fact]
    public void With_k1_equal_to_k2_it_trains_exactly_as_the_hand_written_detach_loop()
    {
        // 23 steps in chunks of 5: the last chunk has 3 steps.
        var (x, y) = Sequence(23);
        var model = new SmallTanhRnn(InputSize, Hidden, seed: 1);
        var result = new TruncatedBptt(5).Run(model, x, chunk => Functional.MseLoss(chunk.Output, chunk.Steps(y)), new Sgd(model.Parameters(), learningRate: 0.3));

        var reference = new SmallTanhRnn(InputSize, Hidden, seed: 1);
        var optimizer = new Sgd(reference.Parameters(), learningRate: 0.3);
        RecurrentState? h = null;
        var losses = new List<double>();
        for (int start = 0; start < 23; start += 5)
        {
            int length = Math.Min(5, 23 - start);
            h = h?.Detach();
            var (output, state) = reference.Forward(x.Narrow(0, start, length), h);
            var loss = Functional.MseLoss(output, y.Narrow(0, start, length));
            optimizer.ZeroGrad();
            loss.Backward();
            optimizer.Step();
            losses.Add(loss.Item());
            h = state;
        }

        Assert.Equal(losses, result.Losses);
        AssertClose(Values(reference), Values(model), 0, "parameters");
        AssertClose(h!.Hidden.ToArray<double>(), result.State.Hidden.ToArray<double>(), 0, "final state");
        Assert.Null(result.State.Hidden.GradFn);
    }

    [Fact]
    public void Batch_first_input_gives_the_same_run_as_time_first()
    {
        var (x, y) = Sequence(12);
        var timeFirst = new SmallTanhRnn(InputSize, Hidden, seed: 2);
        var batchFirst = new SmallTanhRnn(InputSize, Hidden, seed: 2, batchFirst: true);
        var a = new TruncatedBptt(4, 6).Run(timeFirst, x, c => Functional.MseLoss(c.Output, c.Steps(y)), new Sgd(timeFirst.Parameters(), learningRate: 0.1));
        var yb = y.Transpose(0, 1);
        var b = new TruncatedBptt(4, 6, batchFirst: true).Run(batchFirst, x.Transpose(0, 1),
            c =>
            {
                Assert.Equal(1, c.TimeDimension);
                Assert.Equal([Batch, c.Length, Hidden], c.Output.Shape.ToArray());
                return Functional.MseLoss(c.Output, c.Steps(yb));
            }, new Sgd(batchFirst.Parameters(), learningRate: 0.1));
        AssertClose(a.Losses.ToArray(), b.Losses.ToArray(), 1e-14, "losses");
        AssertClose(Values(timeFirst), Values(batchFirst), 1e-14, "parameters");
    }

    [Fact]
    public void With_k2_above_k1_the_gradients_are_those_of_an_explicit_step_by_step_truncation()
    {
        // No optimizer: the parameters stay put and each chunk's gradient adds to Grad. The reference computes every
        // state without a graph, then for each chunk restarts from the state k2 − k1 steps before the chunk's start.
        const int length = 17, k1 = 3, k2 = 7;
        var (x, y) = Sequence(length);
        var model = new SmallTanhRnn(InputSize, Hidden, seed: 3);
        var chunks = new List<(int Start, int Length, int WindowStart)>();
        var result = new TruncatedBptt(k1, k2).Run(model, x, c =>
        {
            chunks.Add((c.Start, c.Length, c.WindowStart));
            return Functional.MseLoss(c.Output, c.Steps(y));
        });
        Assert.Equal([(0, 3, 0), (3, 3, 0), (6, 3, 2), (9, 3, 5), (12, 3, 8), (15, 2, 11)], chunks);

        var reference = new SmallTanhRnn(InputSize, Hidden, seed: 3);
        var states = new Tensor[length + 1];
        states[0] = Tensor.Zeros([Batch, Hidden], DType.Float64);
        using (Autograd.NoGrad())
            for (int t = 0; t < length; t++) states[t + 1] = reference.Step(x.Select(0, t), states[t]);
        var losses = new List<double>();
        for (int start = 0; start < length; start += k1)
        {
            int end = Math.Min(start + k1, length), from = Math.Max(0, start - (k2 - k1));
            var h = states[from];
            var outputs = new List<Tensor>();
            for (int t = from; t < end; t++)
            {
                h = reference.Step(x.Select(0, t), h);
                if (t >= start) outputs.Add(h);
            }
            var loss = Functional.MseLoss(Tensor.Stack(outputs), y.Narrow(0, start, end - start));
            loss.Backward();
            losses.Add(loss.Item());
        }

        AssertClose(losses.ToArray(), result.Losses.ToArray(), 1e-13, "losses");
        AssertClose(Gradients(reference), Gradients(model), 1e-12, "gradients");
        AssertClose(states[length].ToArray<double>(), result.State.Hidden.ToArray<double>(), 1e-13, "final state");

        // The longer window matters: k2 = k1 gives other gradients.
        var plain = new SmallTanhRnn(InputSize, Hidden, seed: 3);
        new TruncatedBptt(k1).Run(plain, x, c => Functional.MseLoss(c.Output, c.Steps(y)));
        double difference = Gradients(plain).Zip(Gradients(model), (a, b) => Math.Abs(a - b)).Max();
        Assert.True(difference > 1e-4, $"k2 = {k2} and k2 = {k1} gave gradients within {difference}");
    }

    [Fact]
    public void With_k2_above_k1_and_an_optimizer_each_window_is_recomputed_with_the_current_parameters()
    {
        // The reference keeps the last state computed at every step; each update starts from the one k2 − k1 steps before
        // its chunk and recomputes the window with the parameters as they are now.
        const int length = 14, k1 = 3, k2 = 5;
        var (x, y) = Sequence(length, seed: 5);
        var model = new SmallTanhRnn(InputSize, Hidden, seed: 4);
        var result = new TruncatedBptt(k1, k2).Run(model, x, c => Functional.MseLoss(c.Output, c.Steps(y)), new Sgd(model.Parameters(), learningRate: 0.5));

        var reference = new SmallTanhRnn(InputSize, Hidden, seed: 4);
        var optimizer = new Sgd(reference.Parameters(), learningRate: 0.5);
        var carried = new Tensor[length + 1];
        carried[0] = Tensor.Zeros([Batch, Hidden], DType.Float64);
        var losses = new List<double>();
        for (int start = 0; start < length; start += k1)
        {
            int end = Math.Min(start + k1, length), from = Math.Max(0, start - (k2 - k1));
            var h = carried[from];
            var outputs = new List<Tensor>();
            for (int t = from; t < end; t++)
            {
                h = reference.Step(x.Select(0, t), h);
                carried[t + 1] = h.Detach();
                if (t >= start) outputs.Add(h);
            }
            var loss = Functional.MseLoss(Tensor.Stack(outputs), y.Narrow(0, start, end - start));
            optimizer.ZeroGrad();
            loss.Backward();
            optimizer.Step();
            losses.Add(loss.Item());
        }

        AssertClose(losses.ToArray(), result.Losses.ToArray(), 1e-13, "losses");
        AssertClose(Values(reference), Values(model), 1e-13, "parameters");
        AssertClose(carried[length].ToArray<double>(), result.State.Hidden.ToArray<double>(), 1e-13, "final state");
    }

    /// <summary>
    /// The bytes the graph behind <paramref name="loss"/> saved for backward, leaving out the storages of the whole input
    /// and target sequences: the windows' saved slices of them are views, and those storages exist anyway.
    /// </summary>
    private static long GraphBytes(Tensor loss, params Tensor[] data)
    {
        var excluded = data.Select(d => d.Storage).ToHashSet(ReferenceEqualityComparer.Instance);
        return SavedTensorReport.Of(loss).Entries.SelectMany(e => e.Node.SavedTensors).Select(t => t.Storage)
            .Where(s => !excluded.Contains(s)).Distinct(ReferenceEqualityComparer.Instance).Sum(s => ((Storage)s!).Bytes);
    }

    [Theory]
    [InlineData(5, 5)]
    [InlineData(2, 6)]
    public void The_memory_saved_for_one_update_does_not_grow_with_the_sequence(int k1, int k2)
    {
        long MaxSavedBytes(int length, int chunk, int window)
        {
            var (x, y) = Sequence(length, dtype: DType.Float32);
            var model = new SmallTanhRnn(InputSize, Hidden, seed: 6, dtype: DType.Float32);
            var bytes = new List<long>();
            new TruncatedBptt(chunk, window).Run(model, x, c =>
            {
                var loss = Functional.MseLoss(c.Output, c.Steps(y));
                bytes.Add(GraphBytes(loss, x, y));
                return loss;
            }, new Sgd(model.Parameters(), learningRate: 0.01));
            // Every full-length window holds the same graph; the first chunks' windows may be shorter.
            if (bytes.Count > 1) Assert.Equal(bytes[^1], bytes.Skip((window + chunk - 1) / chunk).Distinct().Single());
            return bytes.Max();
        }

        long shortRun = MaxSavedBytes(20, k1, k2);
        long longRun = MaxSavedBytes(200, k1, k2);
        Assert.True(shortRun > 0);
        Assert.Equal(shortRun, longRun);
        // Untruncated BPTT over the 200 steps (one chunk) saves about 200/k2 times as much: the report does see growth.
        long whole = MaxSavedBytes(200, 200, 200);
        Assert.True(whole > 200 / k2 / 2 * longRun, $"whole sequence {whole} B, one truncated update {longRun} B");
    }

    [Fact]
    public void MaxGradNorm_clips_each_update()
    {
        var (x, y) = Sequence(4);
        var model = new SmallTanhRnn(InputSize, Hidden, seed: 7);
        var before = Values(model);
        double unclipped = 0;
        new TruncatedBptt(4) { MaxGradNorm = 1e-3 }.Run(model, x, c => Functional.MseLoss(c.Output, c.Steps(y)), new Sgd(model.Parameters(), learningRate: 1),
            afterBackward: _ => unclipped = Math.Sqrt(Gradients(model).Sum(g => g * g)));
        double moved = Math.Sqrt(before.Zip(Values(model), (a, b) => (a - b) * (a - b)).Sum());
        Assert.True(unclipped > 1e-2, $"the gradient norm {unclipped} is too small for the test to clip it");
        // ClipGradNorm scales by maxNorm / (norm + 1e-6), as PyTorch's clip_grad_norm_ does.
        Assert.True(Math.Abs(moved - 1e-3) <= 1e-3 * 1e-6 / unclipped * 1.01 + 1e-15, $"one SGD step of rate 1 moved the parameters by {moved}, not the clipped norm 1e-3");
    }

    [Fact]
    public void Bad_arguments_are_refused_with_the_reason()
    {
        var (x, y) = Sequence(6);
        var model = new SmallTanhRnn(InputSize, Hidden, seed: 8);
        Assert.Contains("k2", Assert.Throws<ArgumentOutOfRangeException>(() => new TruncatedBptt(5, 3)).Message);
        Assert.Contains("k1", Assert.Throws<ArgumentOutOfRangeException>(() => new TruncatedBptt(0)).Message);
        var notScalar = Assert.Throws<ShapeMismatchException>(() => new TruncatedBptt(3).Run(model, x, c => (c.Output - c.Steps(y)).Square()));
        Assert.Contains("must be a scalar", notScalar.Message);
        Assert.Contains("[3, 3, 4]", notScalar.Message);
        Assert.Throws<ArgumentException>(() => new TruncatedBptt(3) { MaxGradNorm = 1 }.Run(model, x, c => c.Output.Sum()));
        Assert.Contains("does not require grad", Assert.Throws<InvalidOperationException>(() => new TruncatedBptt(3).Run(model, x, c => c.Output.Detach().Sum())).Message);
        Assert.Contains("no time steps", Assert.Throws<ShapeMismatchException>(() => new TruncatedBptt(3).Run(model, x.Narrow(0, 0, 0), c => c.Output.Sum())).Message);
    }
}
