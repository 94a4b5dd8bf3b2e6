using Backprop.Backends.Cpu;
using static Backprop.Nn.Functional;

namespace Backprop.Tests.Backends;

/// <summary>Convolution gradients sum in an order fixed by the batch, not by the threads: training repeats bit for bit.</summary>
[Collection(nameof(CpuThreadCountCollection))]
public class ConvolutionThreadingTests
{
    private static (float[] Dx, float[] Dw) Gradients(int threads, int stride)
    {
        int saved = CpuParallel.ThreadCount;
        CpuParallel.ThreadCount = threads;
        try
        {
            var x = Tensor.Randn(new Shape(37, 8, 14, 14), generator: new Generator(1)).SetRequiresGrad();
            var w = Tensor.Randn(new Shape(16, 8, 3, 3), generator: new Generator(2)).SetRequiresGrad();
            var y = Conv2d(x, w, padding: 1, stride: stride);
            y.Backward(Tensor.Randn(y.Shape, generator: new Generator(3)));
            return (x.Grad!.ToArray<float>(), w.Grad!.ToArray<float>());
        }
        finally
        {
            CpuParallel.ThreadCount = saved;
        }
    }

    [Theory]
    [InlineData(1)] // the direct kernels
    [InlineData(2)] // im2col and GEMM
    public void Weight_gradients_are_identical_for_any_thread_count(int stride)
    {
        var one = Gradients(1, stride);
        foreach (int threads in new[] { 2, 3 })
        {
            var many = Gradients(threads, stride);
            Assert.Equal(one.Dw, many.Dw);
            Assert.Equal(one.Dx, many.Dx);
        }
    }
}
