namespace Backprop.Nn;

/// <summary>Batch normalisation of [N, C] or [N, C, L] inputs per channel C (see <see cref="BatchNormBase"/>).</summary>
/// <example><c>new Sequential(new Linear(64, 32), new BatchNorm1d(32), new Relu())</c></example>
public sealed class BatchNorm1d(int numFeatures, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool trackRunningStats = true,
    DType dtype = DType.Float32, Device? device = null) : BatchNormBase(numFeatures, eps, momentum, affine, trackRunningStats, dtype, device)
{
    protected override void CheckInput(Tensor input)
    {
        if (input.Rank is not (2 or 3)) throw new ShapeMismatchException("BatchNorm1d", $"input must be [N, C] or [N, C, L]; got {input.Shape}");
    }
}
