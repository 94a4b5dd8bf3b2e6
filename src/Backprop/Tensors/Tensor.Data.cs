using System.Globalization;
using System.Text;

namespace Backprop;

public partial class Tensor
{
    /// <summary>The elements in row-major order, converted to <typeparamref name="T"/> (float, double, long, int or bool; nonzero is true).</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        var result = new T[NumElements];
        Backend.Download<T>(Strided, result);
        return result;
    }

    /// <summary>The value of a one-element tensor.</summary>
    public T Item<T>() where T : unmanaged
    {
        if (NumElements != 1)
            throw new InvalidOperationException($"Item: only a tensor with one element has a value; this one has shape {Shape}.");
        Span<T> one = stackalloc T[1];
        Backend.Download<T>(Strided, one);
        return one[0];
    }

    /// <summary>The value of a one-element tensor, as a double.</summary>
    public double Item() => Item<double>();

    /// <summary>Row-major elements as nested .NET arrays is rarely what is wanted; this gives a 2-D array of a matrix.</summary>
    public float[,] ToMatrix()
    {
        if (Rank != 2) throw new InvalidOperationException($"ToMatrix: needs a 2-D tensor; this one has shape {Shape}.");
        var flat = ToArray<float>();
        var m = new float[Sizes[0], Sizes[1]];
        Buffer.BlockCopy(flat, 0, m, 0, flat.Length * sizeof(float));
        return m;
    }

    /// <summary>PyTorch's layout: <c>tensor([[ 0.5000, -0.3000], …], requires_grad=True)</c>, with 4 decimals.</summary>
    public override string ToString() => ToString(decimals: 4);

    /// <param name="decimals">Digits after the point for floating-point values.</param>
    /// <param name="summarizeAbove">Tensors with more elements show only their first and last three entries per dimension.</param>
    public string ToString(int decimals, int summarizeAbove = 1000)
    {
        var values = ToArray<double>();
        bool summarize = values.Length > summarizeAbove;
        bool isFloat = DType.IsFloatingPoint();
        var finite = values.Where(double.IsFinite).ToArray();
        bool integral = isFloat && finite.Length > 0 && finite.All(v => v == Math.Floor(v)) && finite.All(v => Math.Abs(v) < 1e10);
        double maxAbs = finite.Length == 0 ? 0 : finite.Max(Math.Abs);
        double minAbs = finite.Where(v => v != 0).Select(Math.Abs).DefaultIfEmpty(1).Min();
        bool scientific = isFloat && !integral && (maxAbs >= 1e8 || minAbs < Math.Pow(10, -decimals) || (minAbs > 0 && maxAbs / minAbs > 1e6 && maxAbs >= 1000));

        string Format(double v)
        {
            if (double.IsNaN(v)) return "nan";
            if (double.IsPositiveInfinity(v)) return "inf";
            if (double.IsNegativeInfinity(v)) return "-inf";
            if (DType == DType.Bool) return v != 0 ? "True" : "False";
            if (!isFloat) return ((long)v).ToString(CultureInfo.InvariantCulture);
            if (integral) return v.ToString("0", CultureInfo.InvariantCulture) + ".";
            if (scientific) return v.ToString("0." + new string('0', decimals) + "e+00", CultureInfo.InvariantCulture);
            return v.ToString("F" + decimals, CultureInfo.InvariantCulture);
        }

        var cells = values.Select(Format).ToArray();
        int width = cells.Length == 0 ? 0 : cells.Max(c => c.Length);
        var sb = new StringBuilder("tensor(");
        const string indent = "       ";
        if (Rank == 0) sb.Append(cells[0]);
        else AppendDim(sb, cells, 0, 0, width, indent + " ", summarize);
        if (!IsOnCpu) sb.Append(", device='").Append(Device).Append('\'');
        // As PyTorch: the dtype is shown unless the values imply it (float32 decimals, int64 integers, True/False).
        bool impliedByValues = DType is DType.Float32 || (DType is DType.Int64 or DType.Bool && NumElements > 0);
        if (!impliedByValues) sb.Append(", dtype=").Append(DType.DisplayName());
        if (GradFn is { } fn) sb.Append(", grad_fn=<").Append(fn.Name).Append('>');
        else if (RequiresGrad) sb.Append(", requires_grad=True");
        sb.Append(')');
        return sb.ToString();
    }

    private void AppendDim(StringBuilder sb, string[] cells, int dim, int start, int width, string indent, bool summarize)
    {
        int size = Sizes[dim];
        int block = 1;
        for (int d = dim + 1; d < Rank; d++) block *= Sizes[d];
        sb.Append('[');
        bool elide = summarize && size > 6;
        for (int i = 0; i < size; i++)
        {
            if (elide && i == 3)
            {
                sb.Append(dim == Rank - 1 ? "..., " : "...,\n" + indent + new string(' ', dim));
                i = size - 4;
                continue;
            }
            if (dim == Rank - 1) sb.Append(cells[start + i].PadLeft(width));
            else AppendDim(sb, cells, dim + 1, start + i * block, width, indent, summarize);
            if (i < size - 1)
            {
                sb.Append(',');
                if (dim == Rank - 1) sb.Append(' ');
                else sb.Append('\n', Rank - dim - 1).Append(indent).Append(' ', dim);
            }
        }
        sb.Append(']');
    }
}
