using System.Runtime.InteropServices;
using System.Text;

namespace Backprop;

/// <summary>
/// A backward step produced NaN or ±∞ (thrown in anomaly mode and by the non-finite sentinel). The message names the
/// op, the module it ran in, the user's line that called it, the line that called Backward, and which of the op's saved
/// inputs were already non-finite (and which op made them).
/// </summary>
public sealed class AnomalyException(string message, Node node, int input) : InvalidOperationException(message)
{
    /// <summary>The node whose backward produced the non-finite gradient.</summary>
    public Node Node { get; } = node;

    /// <summary>Which of the node's inputs got the non-finite gradient.</summary>
    public int Input { get; } = input;
}

internal static class AnomalyCheck
{
    /// <summary>Throws if a gradient a node just produced holds a non-finite value.</summary>
    public static void AfterBackward(Node node, Tensor gradOutput, Tensor?[] inputGrads)
    {
        for (int i = 0; i < inputGrads.Length; i++)
        {
            if (inputGrads[i] is not { } g || !NonFinite.Any(g)) continue;
            throw new AnomalyException(Message(node, gradOutput, i, g), node, i);
        }
    }

    private static string Message(Node node, Tensor gradOutput, int input, Tensor g)
    {
        var (nan, inf) = g.CountNonFinite();
        string what = nan > 0 ? $"{nan} NaN" + (inf > 0 ? $" and {inf} infinite" : "") : $"{inf} infinite";
        var sb = new StringBuilder();
        sb.Append($"{node.Name} produced {what} value(s) in the gradient for its input {input} (shape {g.Shape}), from " +
            (NonFinite.Any(gradOutput) ? "an incoming gradient that already held them (given to Backward or set by a hook)" : "a finite incoming gradient"));
        if (node.DescribeOrigin() is { Length: > 0 } where)
            sb.Append($". The op was created {where}");
        else
            sb.Append(". The op was called outside any Module.Forward or functional loss, so no line was recorded: run the forward pass under " +
                      "Autograd.DetectAnomaly() to record its stack, or call it inside a module");
        if (Engine.CurrentBackwardSite is { IsLibrary: false } site) sb.Append($"; Backward was called from {site}");
        sb.Append('.');

        var suspects = node.SavedTensors.Where(t => t.DType.IsFloatingPoint() && NonFinite.Any(t)).ToList();
        foreach (var t in suspects)
        {
            var (tn, ti) = t.CountNonFinite();
            sb.Append($"\nA tensor it saved for backward (shape {t.Shape}) already held {(tn > 0 ? $"{tn} NaN" : "")}{(tn > 0 && ti > 0 ? " and " : "")}{(ti > 0 ? $"{ti} infinite" : "")} value(s) from the forward pass");
            sb.Append(t.GradFn is { } producer ? $"; it was produced by {producer.Name}" + (producer.DescribeOrigin() is { Length: > 0 } w ? $", created {w}." : ".") : ".");
        }
        if (suspects.Count == 0)
            sb.Append(" Its saved tensors are finite, so its own backward formula overflowed or divided by zero " +
                      "(e.g. log or 1/x at 0, sqrt at 0, exp of a large value).");
        if (NodeOrigin.StackText(node) is { } stack) sb.Append($"\nForward stack of {node.Name}:\n{stack}");
        return sb.ToString();
    }
}

/// <summary>Fast scans for NaN and ±∞.</summary>
internal static class NonFinite
{
    /// <summary>
    /// Whether any element is NaN or ±∞. On the CPU it reads the span the tensor covers in its storage, one vector at a
    /// time (x − x is 0 for finite x and NaN otherwise); only a hit, or a layout that is not one span, falls back to
    /// an element-by-element count.
    /// </summary>
    public static bool Any(Tensor t)
    {
        if (!t.DType.IsFloatingPoint() || t.NumElements == 0) return false;
        if (t.TryGetHostArray<float>(out var f) && Span(t) is var (start, length)) return AnyIn<float>(f.AsSpan(start, length)) && Exact(t);
        if (t.TryGetHostArray<double>(out var d) && Span(t) is var (s, n)) return AnyIn<double>(d.AsSpan(s, n)) && Exact(t);
        return Exact(t);
    }

    private static bool Exact(Tensor t)
    {
        var (nan, inf) = t.CountNonFinite();
        return nan + inf > 0;
    }

    /// <summary>The storage range a view can touch, when its strides are non-negative (broadcast views included).</summary>
    private static (int Start, int Length)? Span(Tensor t)
    {
        long last = t.Offset;
        for (int i = 0; i < t.Sizes.Length; i++)
        {
            if (t.StrideArray[i] < 0) return null;
            last += (long)(t.Sizes[i] - 1) * t.StrideArray[i];
        }
        return (t.Offset, (int)(last - t.Offset + 1));
    }

    internal static bool AnyIn<T>(ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<T>.Count)
        {
            // Four independent sums, so the adds overlap instead of waiting on each other's latency.
            var vectors = MemoryMarshal.Cast<T, Vector<T>>(values);
            Vector<T> a0 = Vector<T>.Zero, a1 = a0, a2 = a0, a3 = a0;
            int v = 0;
            for (; v + 4 <= vectors.Length; v += 4)
            {
                a0 += vectors[v] - vectors[v];
                a1 += vectors[v + 1] - vectors[v + 1];
                a2 += vectors[v + 2] - vectors[v + 2];
                a3 += vectors[v + 3] - vectors[v + 3];
            }
            for (; v < vectors.Length; v++) a0 += vectors[v] - vectors[v];
            if (!Vector.EqualsAll((a0 + a1) + (a2 + a3), Vector<T>.Zero)) return true;
            i = vectors.Length * Vector<T>.Count;
        }
        for (; i < values.Length; i++)
            if (!T.IsFinite(values[i])) return true;
        return false;
    }
}
