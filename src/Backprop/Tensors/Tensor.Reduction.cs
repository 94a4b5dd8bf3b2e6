using Backprop.Ops;

namespace Backprop;

public partial class Tensor
{
    /// <summary>Which dims are reduced: all when <paramref name="dims"/> is null; negative dims count from the end.</summary>
    internal bool[] ReducedMask(ReadOnlySpan<int> dims, bool all, string op)
    {
        var mask = new bool[Rank];
        if (all)
        {
            Array.Fill(mask, true);
            return mask;
        }
        foreach (var dim in dims)
        {
            int d = Shape.NormalizeDim(dim, Rank);
            if (mask[d]) throw new ArgumentException($"{op}: dimension {dim} appears twice.");
            mask[d] = true;
        }
        return mask;
    }

    /// <summary>The sum of all elements, as a scalar.</summary>
    public Tensor Sum() => SumOp.Apply(Autocast.ToFloat32(this), ReducedMask([], all: true, "Sum"), keepDim: false);

    public Tensor Sum(int dim, bool keepDim = false) => SumOp.Apply(Autocast.ToFloat32(this), ReducedMask([dim], false, "Sum"), keepDim);

    public Tensor Sum(int[] dims, bool keepDim = false) => SumOp.Apply(Autocast.ToFloat32(this), ReducedMask(dims, false, "Sum"), keepDim);

    /// <summary>
    /// The mean of all elements; NaN for an empty tensor (0 / 0, as in PyTorch). The sum is divided by the count before
    /// its one rounding, so the mean of a constant tensor is exactly that constant.
    /// </summary>
    public Tensor Mean() => SumDividedBy(NumElements);

    public Tensor Mean(int dim, bool keepDim = false)
    {
        var mask = ReducedMask([dim], false, "Mean");
        return SumOp.Apply(Autocast.ToFloat32(this), mask, keepDim, CountReduced(mask));
    }

    public Tensor Mean(int[] dims, bool keepDim = false)
    {
        var mask = ReducedMask(dims, false, "Mean");
        return SumOp.Apply(Autocast.ToFloat32(this), mask, keepDim, CountReduced(mask));
    }

    /// <summary>Σx / <paramref name="divisor"/> over all elements with one rounding: a loss mean over a count it knows.</summary>
    internal Tensor SumDividedBy(double divisor) => SumOp.Apply(Autocast.ToFloat32(this), ReducedMask([], all: true, "Sum"), keepDim: false, divisor);

    private int CountReduced(bool[] mask)
    {
        int count = 1;
        for (int d = 0; d < Rank; d++) if (mask[d]) count *= Sizes[d];
        return count;
    }

    /// <summary>The largest element. Its gradient goes to the arg-max (shared equally among exact ties).</summary>
    public Tensor Max() => ExtremumOp.Apply(this, ReducedMask([], true, "Max"), keepDim: false, max: true);

    public Tensor Max(int dim, bool keepDim = false) => ExtremumOp.Apply(this, ReducedMask([dim], false, "Max"), keepDim, max: true);

    public Tensor Max(int[] dims, bool keepDim = false) => ExtremumOp.Apply(this, ReducedMask(dims, false, "Max"), keepDim, max: true);

    public Tensor Min() => ExtremumOp.Apply(this, ReducedMask([], true, "Min"), keepDim: false, max: false);

    public Tensor Min(int dim, bool keepDim = false) => ExtremumOp.Apply(this, ReducedMask([dim], false, "Min"), keepDim, max: false);

    public Tensor Min(int[] dims, bool keepDim = false) => ExtremumOp.Apply(this, ReducedMask(dims, false, "Min"), keepDim, max: false);

    /// <summary>The maxima along <paramref name="dim"/> and where they are (torch.max(x, dim)); values carry the gradient.</summary>
    public (Tensor Values, Tensor Indices) MaxWithIndices(int dim, bool keepDim = false) => ExtremeWithIndices(dim, keepDim, max: true);

    public (Tensor Values, Tensor Indices) MinWithIndices(int dim, bool keepDim = false) => ExtremeWithIndices(dim, keepDim, max: false);

    private (Tensor, Tensor) ExtremeWithIndices(int dim, bool keepDim, bool max)
    {
        int d = Shape.NormalizeDim(dim, Rank);
        var indices = ArgReduce(d, max);
        var values = Gather(d, indices);
        return keepDim ? (values, indices) : (values.Squeeze(d), indices.Squeeze(d));
    }

    private Tensor ArgReduce(int dim, bool max)
    {
        var keep = (int[])Sizes.Clone();
        keep[dim] = 1;
        var indices = Empty(keep, DType.Int64, Backend);
        Backend.ArgReduce(max, Strided, dim, indices.Strided);
        return indices;
    }

    /// <summary>Int64 index of the largest element of the flattened tensor.</summary>
    public Tensor ArgMax() => Reshape(-1).ArgReduce(0, max: true).Reshape();

    public Tensor ArgMax(int dim, bool keepDim = false)
    {
        int d = Shape.NormalizeDim(dim, Rank);
        var indices = ArgReduce(d, max: true);
        return keepDim ? indices : indices.Squeeze(d);
    }

    public Tensor ArgMin() => Reshape(-1).ArgReduce(0, max: false).Reshape();

    public Tensor ArgMin(int dim, bool keepDim = false)
    {
        int d = Shape.NormalizeDim(dim, Rank);
        var indices = ArgReduce(d, max: false);
        return keepDim ? indices : indices.Squeeze(d);
    }

    /// <summary>
    /// Variance over <paramref name="dims"/> (all when null): Σ(x − mean)² / max(0, n − <paramref name="correction"/>),
    /// as torch.var. The default correction 1 is Bessel's (unbiased); 0 gives the population variance. With no degrees
    /// of freedom left (one element, correction 1) it is 0 / 0 = NaN, as in PyTorch.
    /// </summary>
    /// <remarks>Two passes: the mean is exact to its one rounding, so an offset (1e4 + noise) does not swamp the spread.</remarks>
    public Tensor Var(int[]? dims = null, double correction = 1, bool keepDim = false)
    {
        var mask = ReducedMask(dims ?? [], dims is null, "Var");
        int n = CountReduced(mask);
        var mean = SumOp.Apply(this, mask, keepDim: true, divisor: n);
        return SumOp.Apply((this - mean).Square(), mask, keepDim, divisor: Math.Max(0, n - correction));
    }

    /// <summary>Variance with Bessel's correction when <paramref name="unbiased"/> (correction 1), else the population variance (0).</summary>
    public Tensor Var(int[]? dims, bool unbiased, bool keepDim = false) => Var(dims, unbiased ? 1 : 0, keepDim);

    /// <summary>The square root of <see cref="Var(int[], double, bool)"/>.</summary>
    public Tensor Std(int[]? dims = null, double correction = 1, bool keepDim = false) => Var(dims, correction, keepDim).Sqrt();

    public Tensor Std(int[]? dims, bool unbiased, bool keepDim = false) => Var(dims, unbiased, keepDim).Sqrt();

    /// <summary>log Σ exp(x) along <paramref name="dim"/>, computed stably as m + log Σ exp(x − m) with m the maximum.</summary>
    public Tensor LogSumExp(int dim, bool keepDim = false)
    {
        var m = Max(dim, keepDim: true).Detach();
        var finite = Where(m.Abs().Lt(double.PositiveInfinity), m, 0.0);
        var result = (this - finite).Exp().Sum(dim, keepDim: true).Log() + finite;
        return keepDim ? result : result.Squeeze(dim);
    }

    /// <summary>The Euclidean (L2) norm of all elements. Its gradient at zero is 0, as in PyTorch (the subgradient).</summary>
    public Tensor Norm() => Norm(2.0);
}
