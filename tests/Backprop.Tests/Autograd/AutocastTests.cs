using Backprop.IO;
using Backprop.Nn;
using Backprop.Optim;
using F = Backprop.Nn.Functional;

namespace Backprop.Tests.AutogradTests;

/// <summary>
/// Autocast: which ops run in half precision and which in float32, float32 master weights receiving float32
/// gradients, the scope's lifetime, and checkpointed regions recomputed under the mode they ran in.
/// </summary>
public class AutocastTests
{
    private static Tensor Randn(ulong seed, params int[] shape) => Tensor.Randn(new Shape(shape), DType.Float32, new Generator(seed));

    [Theory]
    [InlineData(DType.BFloat16)]
    [InlineData(DType.Float16)]
    public void LowPrecisionOpsRunInTheHalfDTypeAndFloat32OpsInFloat32(DType low)
    {
        var x = Randn(1, 4, 6);
        var w = Randn(2, 5, 6).SetRequiresGrad();
        var image = Randn(3, 2, 3, 5, 5);
        var kernel = Randn(4, 4, 3, 3, 3).SetRequiresGrad();
        var targets = Tensor.FromArray(new long[] { 0, 4, 2, 1 });
        using (Autocast.Enable(low))
        {
            Assert.Equal(low, Autocast.LowPrecisionDType);
            var logits = F.Linear(x, w);
            Assert.Equal(low, logits.DType);
            Assert.Equal(low, x.MatMul(w.Transpose(0, 1)).DType);
            Assert.Equal(low, F.Conv2d(image, kernel).DType);
            Assert.Equal(DType.Float32, logits.Softmax(1).DType);
            Assert.Equal(DType.Float32, logits.LogSoftmax(1).DType);
            Assert.Equal(DType.Float32, logits.Sum().DType);
            Assert.Equal(DType.Float32, logits.Mean(0).DType);
            Assert.Equal(DType.Float32, F.LayerNorm(logits, [5]).DType);
            Assert.Equal(DType.Float32, F.CrossEntropy(logits, targets).DType);
            // Ops on neither list keep their input's dtype.
            Assert.Equal(low, logits.Relu().DType);
            // Float64 is left alone.
            Assert.Equal(DType.Float64, F.Linear(x.Double(), w.Double()).DType);
        }
        Assert.False(Autocast.IsEnabled);
        Assert.Equal(DType.Float32, F.Linear(x, w).DType);
    }

    [Theory]
    [InlineData(DType.BFloat16, 2e-2)]
    [InlineData(DType.Float16, 4e-3)]
    public void Float32WeightsGetFloat32GradientsCloseToTheFloat32Run(DType low, double tolerance)
    {
        var x = Randn(5, 8, 6);
        var w1 = Randn(6, 7, 6).SetRequiresGrad();
        var w2 = Randn(7, 3, 7).SetRequiresGrad();
        var targets = Tensor.FromArray(new long[] { 0, 2, 1, 1, 0, 2, 2, 1 });
        Tensor Loss() => F.CrossEntropy(F.Linear(F.Linear(x, w1).Tanh(), w2), targets);
        Loss().Backward();
        var expected = new[] { w1.Grad!.ToArray<float>(), w2.Grad!.ToArray<float>() };
        w1.ZeroGrad();
        w2.ZeroGrad();
        Tensor loss;
        using (Autocast.Enable(low)) loss = Loss();
        Assert.Equal(DType.Float32, loss.DType);
        loss.Backward();
        Assert.Equal(DType.Float32, w1.Grad!.DType);
        Assert.Equal(DType.Float32, w2.Grad!.DType);
        var actual = new[] { w1.Grad!.ToArray<float>(), w2.Grad!.ToArray<float>() };
        for (int i = 0; i < 2; i++)
        {
            double scale = expected[i].Max(v => Math.Abs(v));
            for (int j = 0; j < expected[i].Length; j++)
                Assert.True(Math.Abs(actual[i][j] - expected[i][j]) <= tolerance * scale, $"weight {i} element {j}: {actual[i][j]} vs {expected[i][j]}");
        }
    }

    [Theory]
    [InlineData(DType.BFloat16)]
    [InlineData(DType.Float16)]
    public void HalfConvolutionsAndPoolingAreTheFloat32KernelsOnWidenedValuesRoundedOnce(DType low)
    {
        var x = Randn(12, 2, 3, 6, 6).To(low);
        var w = Randn(13, 4, 3, 3, 3).To(low);
        var g = Randn(14, 2, 4, 4, 4).To(low);
        Assert.Equal(F.Conv2d(x.Float(), w.Float()).To(low).ToArray<float>(), F.Conv2d(x, w).ToArray<float>());
        Assert.Equal(F.ConvTranspose2d(g.Float(), w.Float()).To(low).ToArray<float>(), F.ConvTranspose2d(g, w).ToArray<float>());
        Assert.Equal(F.MaxPool2d(x.Float(), new Size2d(2, 2)).To(low).ToArray<float>(), F.MaxPool2d(x, new Size2d(2, 2)).ToArray<float>());
        Assert.Equal(F.AvgPool2d(x.Float(), new Size2d(2, 2)).To(low).ToArray<float>(), F.AvgPool2d(x, new Size2d(2, 2)).ToArray<float>());
        Assert.Equal(F.AdaptiveAvgPool2d(x.Float(), new Size2d(1, 1)).To(low).ToArray<float>(), F.AdaptiveAvgPool2d(x, new Size2d(1, 1)).ToArray<float>());
        var pooledGrad = Randn(15, 2, 3, 3, 3).To(low);
        var (wideInput, narrowInput) = (x.Float().SetRequiresGrad(), x.Detach().SetRequiresGrad());
        F.AvgPool2d(wideInput, new Size2d(2, 2)).Backward(pooledGrad.Float());
        F.AvgPool2d(narrowInput, new Size2d(2, 2)).Backward(pooledGrad);
        Assert.Equal(wideInput.Grad!.To(low).ToArray<float>(), narrowInput.Grad!.ToArray<float>());
        // The weight gradient (Conv2dWeightGrad) and the max-pool backward too.
        var (wide, narrow) = (w.Float().SetRequiresGrad(), w.Detach().SetRequiresGrad());
        F.MaxPool2d(F.Conv2d(x.Float(), wide), new Size2d(2, 2)).Backward(F.MaxPool2d(g.Float(), new Size2d(2, 2)).To(DType.Float32));
        F.MaxPool2d(F.Conv2d(x, narrow), new Size2d(2, 2)).Backward(F.MaxPool2d(g, new Size2d(2, 2)));
        var expected = wide.Grad!.ToArray<float>();
        var actual = narrow.Grad!.Float().ToArray<float>();
        double scale = expected.Max(v => Math.Abs(v));
        double tolerance = low == DType.BFloat16 ? 2e-2 : 4e-3;
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= tolerance * scale, $"weight gradient {i}: {actual[i]} vs {expected[i]}");
    }

    [Fact]
    public void BackwardInsideTheScopeKeepsEachFormulaInItsForwardDType()
    {
        var x = Randn(8, 4, 6);
        var w = Randn(9, 5, 6).SetRequiresGrad();
        using (Autocast.Enable(DType.Float16))
        {
            F.Linear(x, w).Relu().Sum().Backward();
            Assert.True(Autocast.IsEnabled);
        }
        Assert.Equal(DType.Float32, w.Grad!.DType);
    }

    [Fact]
    public void OnlyHalfDTypesAreAccepted()
    {
        var error = Assert.Throws<ArgumentException>(() => Autocast.Enable(DType.Float64));
        Assert.Contains("Float16 or BFloat16", error.Message);
    }

    [Fact]
    public void ADisposedScopeRestoresTheOuterMode()
    {
        using (Autocast.Enable(DType.BFloat16))
        {
            using (Autocast.Enable(DType.Float16)) Assert.Equal(DType.Float16, Autocast.LowPrecisionDType);
            Assert.Equal(DType.BFloat16, Autocast.LowPrecisionDType);
            using (Autocast.Disable()) Assert.False(Autocast.IsEnabled);
            Assert.Equal(DType.BFloat16, Autocast.LowPrecisionDType);
        }
        Assert.Null(Autocast.LowPrecisionDType);
    }

    [Fact]
    public async Task TheScopeFollowsAwait()
    {
        using (Autocast.Enable(DType.BFloat16))
        {
            await Task.Yield();
            Assert.Equal(DType.BFloat16, await Task.Run(() => Autocast.LowPrecisionDType));
        }
        Assert.False(Autocast.IsEnabled);
    }

    [Fact]
    public void ACheckpointedRegionIsRecomputedUnderItsAutocastMode()
    {
        var generator = new Generator(10);
        var model = new Sequential(new Linear(6, 6, generator: generator), new Tanh(), new Linear(6, 6, generator: generator), new Tanh());
        var x = Randn(11, 4, 6);
        int[] Run(Func<Tensor, Tensor> forward)
        {
            model.ZeroGrad();
            Tensor loss;
            using (Autocast.Enable(DType.BFloat16)) loss = forward(x).Float().Square().Sum();
            loss.Backward();
            return model.Parameters().SelectMany(p => p.Grad!.ToArray<float>()).Select(BitConverter.SingleToInt32Bits).ToArray();
        }
        var expected = Run(t => model.Forward(t));
        var actual = Run(t => GradientCheckpoint.Checkpoint(model, t));
        Assert.True(expected.SequenceEqual(actual), "the checkpointed autocast gradients differ from the unchecked ones");
    }
}

/// <summary>Dynamic loss scaling: recovering fp16 gradients that underflow, skipping non-finite steps, growth, backoff, checkpoints.</summary>
public class GradScalerTests
{
    [Fact]
    public void ScalingRecoversGradientsThatUnderflowInFloat16()
    {
        // A loss of 1e-8·Σy gives ∂L/∂y = 1e-8 per element, below float16's smallest subnormal (6e-8): unscaled, the
        // half-precision backward of the linear layer sees zeros and the weight's gradient vanishes.
        var x = Tensor.Randn(new Shape(4, 8), DType.Float32, new Generator(1));
        var w = Tensor.Randn(new Shape(8, 8), DType.Float32, new Generator(2)).SetRequiresGrad();
        Tensor Loss()
        {
            using (Autocast.Enable(DType.Float16)) return F.Linear(x, w).Sum() * 1e-8;
        }
        var expected = x.Sum(0).ToArray<float>().Select(v => v * 1e-8).ToArray(); // ∂L/∂w[o, i] = 1e-8·Σ_n x[n, i], for every o
        Loss().Backward();
        Assert.True(w.Grad!.ToArray<float>().All(v => v == 0), "without scaling the float16 gradients should underflow to zero");

        w.ZeroGrad();
        var scaler = new GradScaler();
        var optimizer = new Sgd([w], learningRate: 0.1);
        scaler.ScaleLoss(Loss()).Backward();
        scaler.Unscale(optimizer);
        var grad = w.Grad!.ToArray<float>();
        for (int o = 0; o < 8; o++)
            for (int i = 0; i < 8; i++)
            {
                double e = expected[i], a = grad[o * 8 + i];
                Assert.True(Math.Abs(a - e) <= 2e-3 * Math.Abs(e) + 1e-12, $"w.grad[{o}, {i}] = {a}, expected {e}");
            }
        Assert.True(scaler.Step(optimizer));
        scaler.Update();
        Assert.Equal(65536.0, scaler.Scale);
    }

    [Fact]
    public void ANonFiniteGradientSkipsTheStepAndBacksOff()
    {
        var w = Tensor.FromArray(new float[] { 1, 2 }).SetRequiresGrad();
        var optimizer = new Sgd([w], learningRate: 0.1);
        var scaler = new GradScaler(initScale: 1024, growthInterval: 3);
        // Overflow: 1e36·1024 is beyond float32.
        scaler.ScaleLoss((w * 1e36f).Sum()).Backward();
        Assert.False(scaler.Step(optimizer));
        scaler.Update();
        Assert.Equal(new float[] { 1, 2 }, w.ToArray<float>());
        Assert.Equal(512.0, scaler.Scale);
        Assert.Equal(1, scaler.SkippedSteps);

        for (int step = 0; step < 3; step++)
        {
            optimizer.ZeroGrad();
            scaler.ScaleLoss(w.Sum()).Backward();
            Assert.True(scaler.Step(optimizer));
            scaler.Update();
            Assert.Equal(step < 2 ? 512.0 : 1024.0, scaler.Scale);
        }
        // Three clean steps of −0.1·1 each: the unscaled gradient was exactly 1.
        var values = w.ToArray<float>();
        Assert.True(Math.Abs(values[0] - 0.7f) <= 1e-6f && Math.Abs(values[1] - 1.7f) <= 1e-6f, $"{values[0]}, {values[1]}");
    }

    [Fact]
    public void UnscaleBeforeClippingSeesTheTrueGradientOnce()
    {
        var w = Tensor.FromArray(new float[] { 3, 4 }).SetRequiresGrad();
        var optimizer = new Sgd([w], learningRate: 1);
        var scaler = new GradScaler(initScale: 8);
        scaler.ScaleLoss((w * w).Sum() * 0.5).Backward();
        Assert.Equal(new float[] { 24, 32 }, w.Grad!.ToArray<float>());
        scaler.Unscale(optimizer);
        Assert.Equal(new float[] { 3, 4 }, w.Grad!.ToArray<float>());
        double norm = GradientClipping.ClipGradNorm([w], 1.0);
        Assert.True(Math.Abs(norm - 5) <= 1e-6, $"norm {norm}");
        Assert.Throws<InvalidOperationException>(() => scaler.Unscale(optimizer));
        Assert.True(scaler.Step(optimizer));
        var values = w.ToArray<float>();
        Assert.True(Math.Abs(values[0] - 2.4f) <= 1e-6f && Math.Abs(values[1] - 3.2f) <= 1e-6f, $"{values[0]}, {values[1]}");
    }

    [Fact]
    public void TheStateRoundTripsThroughACheckpoint()
    {
        var w = Tensor.FromArray(new float[] { 1 }).SetRequiresGrad();
        var optimizer = new Sgd([w]);
        var scaler = new GradScaler(initScale: 256, growthInterval: 5);
        for (int i = 0; i < 3; i++)
        {
            optimizer.ZeroGrad();
            scaler.ScaleLoss(w.Sum()).Backward();
            scaler.Step(optimizer);
            scaler.Update();
        }
        var checkpoint = new Checkpoint();
        scaler.SaveState(checkpoint, "scaler.");
        var restored = new GradScaler();
        restored.LoadState(checkpoint, "scaler.");
        Assert.Equal((256.0, 3, 5), (restored.Scale, restored.GrowthTracker, restored.GrowthInterval));
        checkpoint.Metadata.Remove("scaler.growth_tracker");
        var error = Assert.Throws<KeyNotFoundException>(() => new GradScaler().LoadState(checkpoint, "scaler."));
        Assert.Contains("scaler.growth_tracker", error.Message);
    }

    [Fact]
    public void ADisabledScalerPassesThrough()
    {
        var w = Tensor.FromArray(new float[] { 1 }).SetRequiresGrad();
        var optimizer = new Sgd([w], learningRate: 1);
        var scaler = new GradScaler(enabled: false);
        var loss = w.Sum();
        Assert.Same(loss, scaler.ScaleLoss(loss));
        loss.Backward();
        Assert.True(scaler.Step(optimizer));
        scaler.Update();
        Assert.Equal(new float[] { 0 }, w.ToArray<float>());
    }
}
