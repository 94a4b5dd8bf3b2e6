namespace Backprop.Nn;

/// <summary>Batch normalisation of [N, C, H, W] feature maps per channel C, over the batch and every position (see <see cref="BatchNormBase"/>).</summary>
/// <example><c>new Sequential(new Conv2d(3, 16, 3, padding: 1, bias: false), new BatchNorm2d(16), new Relu())</c></example>
public sealed class BatchNorm2d(int numFeatures, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool trackRunningStats = true,
    DType dtype = DType.Float32, Device? device = null) : BatchNormBase(numFeatures, eps, momentum, affine, trackRunningStats, dtype, device)
{
    protected override void CheckInput(Tensor input)
    {
        if (input.Rank != 4) throw new ShapeMismatchException("BatchNorm2d", $"input must be [N, C, H, W]; got {input.Shape}");
    }
}
