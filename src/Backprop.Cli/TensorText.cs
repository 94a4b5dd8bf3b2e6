using System.Globalization;
using System.Text;

namespace Backprop.Cli;

/// <summary>Compact tensor values for tables: size-1 dims dropped, 4 decimals, no negative zero.</summary>
public static class TensorText
{
    public static string Format(Tensor? t, int decimals = 4)
    {
        if (t is null) return "";
        var squeezed = t.Squeeze();
        var values = squeezed.ToArray<double>();
        var sizes = squeezed.Shape.ToArray();
        var sb = new StringBuilder();
        int index = 0;
        Append(sb, values, sizes, 0, ref index, decimals);
        return sb.ToString();
    }

    private static void Append(StringBuilder sb, double[] values, int[] sizes, int dim, ref int index, int decimals)
    {
        if (dim == sizes.Length)
        {
            sb.Append(Number(values[index++], decimals));
            return;
        }
        sb.Append('[');
        for (int i = 0; i < sizes[dim]; i++)
        {
            if (i > 0) sb.Append(", ");
            Append(sb, values, sizes, dim + 1, ref index, decimals);
        }
        sb.Append(']');
    }

    public static string Number(double v, int decimals = 4)
    {
        double rounded = Math.Round(v, decimals);
        if (rounded == 0) rounded = 0; // no "-0.0000"
        return rounded.ToString("F" + decimals, CultureInfo.InvariantCulture);
    }
}
