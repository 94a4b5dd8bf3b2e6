namespace Backprop;

public partial class Tensor
{
    /// <summary>
    /// The distinct elements (torch.unique), or with <paramref name="dim"/> the distinct slices along that dim. Sorted
    /// ascending (slices lexicographically) when <paramref name="sorted"/>, else in order of first appearance. NaN
    /// sorts last and, as in PyTorch, no NaN equals another. <c>Inverse</c> (when asked for) gives, for each element
    /// (each slice), the position of its value in <c>Values</c>, with the input's shape (the size of dim);
    /// <c>Counts</c> how often each value occurs. Not differentiable.
    /// </summary>
    public (Tensor Values, Tensor? Inverse, Tensor? Counts) Unique(bool sorted = true, bool returnInverse = false,
        bool returnCounts = false, int? dim = null)
    {
        var source = dim is { } d0 ? Movedim(Shape.NormalizeDim(d0, Rank)) : Reshape(-1, 1);
        int n = source.Sizes[0], width = source.Sizes.Length > 1 ? Shape.CountElements(source.Sizes[1..]) : 1;
        // Int64 values are compared as integers (a double cannot hold every one of them).
        var contiguous = source.Contiguous();
        var integers = DType == DType.Int64 ? contiguous.ToArray<long>() : null;
        var values = integers is null ? contiguous.ToArray<double>() : [];
        if (dim is not null && width == 0 && n > 0)
            throw new ArgumentException($"Unique: cannot take unique slices along dim {dim} of a tensor of shape {Shape} with no elements in the other dims.");

        int CompareRows(int a, int b)
        {
            for (int i = 0; i < width; i++)
            {
                if (integers is not null)
                {
                    int ci = integers[a * width + i].CompareTo(integers[b * width + i]);
                    if (ci != 0) return ci;
                    continue;
                }
                double x = values[a * width + i], y = values[b * width + i];
                // NaN after every number (and equal to no other NaN: its own row order decides).
                int c = double.IsNaN(x) ? (double.IsNaN(y) ? 0 : 1) : double.IsNaN(y) ? -1 : x.CompareTo(y);
                if (c != 0) return c;
            }
            return 0;
        }
        bool SameRow(int a, int b)
        {
            for (int i = 0; i < width; i++)
                if (integers is not null ? integers[a * width + i] != integers[b * width + i] : !(values[a * width + i] == values[b * width + i]))
                    return false;
            return true;
        }

        var order = Enumerable.Range(0, n).ToArray();
        // A stable sort, so equal rows stay in order of appearance.
        var sortedOrder = order.OrderBy(i => i, Comparer<int>.Create(CompareRows)).ToArray();
        var groupOf = new long[n];
        var representatives = new List<int>();
        var counts = new List<long>();
        for (int k = 0; k < n; k++)
        {
            int row = sortedOrder[k];
            if (k > 0 && SameRow(sortedOrder[k - 1], row)) counts[^1]++;
            else
            {
                representatives.Add(row);
                counts.Add(1);
            }
            groupOf[row] = representatives.Count - 1;
        }
        var rank = Enumerable.Range(0, representatives.Count).ToArray();
        if (!sorted)
        {
            // Groups in order of first appearance: each group's representative is its first row.
            rank = rank.OrderBy(g => representatives[g]).ToArray();
            var position = new int[rank.Length];
            for (int p = 0; p < rank.Length; p++) position[rank[p]] = p;
            for (int i = 0; i < n; i++) groupOf[i] = position[groupOf[i]];
            representatives = rank.Select(g => representatives[g]).ToList();
            counts = rank.Select(g => counts[g]).ToList();
        }

        int[] outSizes = dim is null ? [representatives.Count] : [representatives.Count, .. source.Sizes[1..]];
        Tensor uniqueValues;
        if (integers is not null)
        {
            var picked = new long[representatives.Count * width];
            for (int g = 0; g < representatives.Count; g++) Array.Copy(integers, representatives[g] * width, picked, g * width, width);
            uniqueValues = FromArray(picked, outSizes);
        }
        else
        {
            var picked = new double[representatives.Count * width];
            for (int g = 0; g < representatives.Count; g++) Array.Copy(values, representatives[g] * width, picked, g * width, width);
            uniqueValues = FromHost(picked, outSizes, DType, Device);
        }
        if (dim is { } d1) uniqueValues = uniqueValues.Movedim(0, Shape.NormalizeDim(d1, Rank)).Contiguous();
        var inverse = returnInverse ? FromArray(groupOf, dim is null ? Sizes : [n]).To(Device) : null;
        var countTensor = returnCounts ? FromArray(counts.ToArray(), counts.Count).To(Device) : null;
        return (uniqueValues.To(Device), inverse, countTensor);
    }

    /// <summary>Moves dim <paramref name="from"/> to position <paramref name="to"/> (a view).</summary>
    private Tensor Movedim(int from, int to = 0)
    {
        var rest = Enumerable.Range(0, Rank).Where(d => d != from).ToList();
        rest.Insert(to, from);
        return Permute([.. rest]);
    }

    /// <summary>
    /// How often each value 0, 1, … occurs in this 1-D non-negative Int64 tensor (torch.bincount); with
    /// <paramref name="weights"/> (same length) each occurrence adds its weight instead. The result has
    /// max(max + 1, <paramref name="minlength"/>) bins: Int64 without weights, the weights' dtype with float weights,
    /// float64 with integer weights. Not differentiable.
    /// </summary>
    public Tensor Bincount(Tensor? weights = null, int minlength = 0)
    {
        if (DType != DType.Int64 || Rank != 1)
            throw new ArgumentException($"Bincount: needs a 1-D int64 tensor; got {DType.DisplayName()} of shape {Shape}.");
        if (minlength < 0) throw new ArgumentException($"Bincount: minlength must be non-negative; got {minlength}.");
        if (weights is not null && (weights.Rank != 1 || weights.Sizes[0] != Sizes[0]))
            throw new ShapeMismatchException("Bincount", $"weights of shape {weights.Shape} must be 1-D with the input's length {Sizes[0]}");
        var values = ToArray<long>();
        foreach (var v in values)
            if (v < 0) throw new ArgumentException($"Bincount: values must be non-negative; found {v}.");
        int bins = Math.Max(minlength, values.Length == 0 ? 0 : checked((int)values.Max() + 1));
        if (weights is null)
        {
            var counts = new long[bins];
            foreach (var v in values) counts[v]++;
            return FromArray(counts, bins).To(Device);
        }
        // Each bin sums its weights in input order, in float64, and rounds once to the output dtype.
        var w = weights.ToArray<double>();
        var sums = new double[bins];
        for (int i = 0; i < values.Length; i++) sums[values[i]] += w[i];
        return FromHost(sums, [bins], weights.DType == DType.Float32 ? DType.Float32 : DType.Float64, Device);
    }

    /// <summary>
    /// A histogram of <paramref name="bins"/> equal-width bins over [<paramref name="min"/>, <paramref name="max"/>]
    /// (torch.histc): elements outside the range and NaN are ignored, and max falls in the last bin. When min equals
    /// max the data's own minimum and maximum are used (min = max = 0 by default); if those are equal too, the range
    /// widens by 1 on each side. The counts have this tensor's float dtype. Not differentiable.
    /// </summary>
    public Tensor Histc(int bins = 100, double min = 0, double max = 0)
    {
        if (!DType.IsFloatingPoint())
            throw new ArgumentException($"Histc: needs a floating-point tensor; got {DType.DisplayName()} of shape {Shape}.");
        if (bins <= 0) throw new ArgumentException($"Histc: bins must be positive; got {bins}.");
        var values = ToArray<double>();
        double low = min, high = max;
        if (low == high && values.Length > 0)
        {
            low = values.Min();
            high = values.Max();
            // PyTorch's aminmax propagates NaN, and the range check below then rejects it.
            if (values.Any(double.IsNaN)) low = high = double.NaN;
        }
        if (low == high)
        {
            low -= 1;
            high += 1;
        }
        if (!double.IsFinite(low) || !double.IsFinite(high))
            throw new ArgumentException($"Histc: range of [{low}, {high}] is not finite.");
        if (!(low < high)) throw new ArgumentException($"Histc: max must be larger than min; got min {min}, max {max}.");
        var counts = new double[bins];
        // PyTorch computes the bin in the input's precision: (x − min)·bins / (max − min), truncated.
        bool single = DType == DType.Float32;
        float lowF = (float)low, highF = (float)high;
        foreach (var x in values)
        {
            if (single ? !((float)x >= lowF && (float)x <= highF) : !(x >= low && x <= high)) continue;
            long position = single
                ? (long)(((float)x - lowF) * bins / (highF - lowF))
                : (long)((x - low) * bins / (high - low));
            if (position == bins) position--;
            counts[position]++;
        }
        return FromHost(counts, [bins], DType, Device);
    }
}
