using System.Numerics.Tensors;

namespace Backprop.Backends.Cpu;

// Cross-entropy's per-row work in one pass each way, instead of the ten small ops (compare, select, convert, gather,
// one-hot, exp, subtract, multiply) that composing it costs a training step, and a first step the JIT of each of them.
// The arithmetic is the composition's, element by element: −logProbs[i, t]·valid[i] forward, (exp(logProbs) − one-hot)·scale
// backward, with exp from the same TensorPrimitives routine the Exp op runs on a contiguous row.
public sealed partial class CpuBackend
{
    public double CrossEntropyRows(StridedView logProbs, StridedView targets, long ignoreIndex, StridedView loss, StridedView valid)
    {
        CheckCrossEntropyViews("CrossEntropyRows", logProbs, targets, loss, valid);
        return logProbs.DType switch
        {
            DType.Float32 => CrossEntropyRowsTyped<float>(logProbs, targets, ignoreIndex, loss, valid),
            DType.Float64 => CrossEntropyRowsTyped<double>(logProbs, targets, ignoreIndex, loss, valid),
            _ => throw Unsupported("CrossEntropyRows", logProbs.DType),
        };
    }

    public void CrossEntropyRowsBackward(StridedView logProbs, StridedView targets, long ignoreIndex, StridedView scale, StridedView gradient)
    {
        CheckCrossEntropyViews("CrossEntropyRowsBackward", logProbs, targets, scale, null);
        CheckSameShape("CrossEntropyRowsBackward", logProbs, gradient);
        CheckSameDType("CrossEntropyRowsBackward", logProbs, gradient);
        switch (logProbs.DType)
        {
            case DType.Float32: CrossEntropyRowsBackwardTyped<float>(logProbs, targets, ignoreIndex, scale, gradient); break;
            case DType.Float64: CrossEntropyRowsBackwardTyped<double>(logProbs, targets, ignoreIndex, scale, gradient); break;
            default: throw Unsupported("CrossEntropyRowsBackward", logProbs.DType);
        }
    }

    private static void CheckCrossEntropyViews(string kernel, in StridedView logProbs, in StridedView targets, in StridedView perRow, StridedView? valid)
    {
        if (logProbs.Rank != 2 || targets.Rank != 1 || perRow.Rank != 1 || targets.Shape[0] != logProbs.Shape[0] || perRow.Shape[0] != logProbs.Shape[0]
            || valid is { } v && (v.Rank != 1 || v.Shape[0] != logProbs.Shape[0]))
            throw new ShapeMismatchException(kernel, $"expects log-probabilities [N, C] with targets and per-row values [N]; got {Shape.Format(logProbs.Shape)}, " +
                $"{Shape.Format(targets.Shape)} and {Shape.Format(perRow.Shape)}");
        if (targets.DType != DType.Int64) throw new ArgumentException($"{kernel}: targets must be int64 class indices; got {targets.DType.DisplayName()}.");
        CheckSameDType(kernel, logProbs, perRow);
        if (valid is { } view) CheckSameDType(kernel, logProbs, view);
    }

    /// <summary>The class row <paramref name="row"/> picks: its target, or 0 when ignored; a target outside [0, C) throws.</summary>
    private static int TargetClass(long[] targets, in StridedView view, int row, long ignoreIndex, int classes, out bool keep)
    {
        long target = targets[view.Offset + row * view.Strides[0]];
        keep = target != ignoreIndex;
        long picked = keep ? target : 0;
        if ((ulong)picked >= (ulong)classes)
            throw new IndexOutOfRangeException($"CrossEntropy: target {target} of row {row} is out of range for {classes} classes.");
        return (int)picked;
    }

    private static double CrossEntropyRowsTyped<T>(in StridedView logProbs, in StridedView targets, long ignoreIndex, in StridedView loss, in StridedView valid)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var lp = Data<T>(logProbs.Storage);
        var t = Data<long>(targets.Storage);
        var l = Data<T>(loss.Storage);
        var v = Data<T>(valid.Storage);
        int rows = logProbs.Shape[0], classes = logProbs.Shape[1];
        double count = 0;
        for (int i = 0; i < rows; i++)
        {
            int c = TargetClass(t, targets, i, ignoreIndex, classes, out bool keep);
            T weight = keep ? T.One : T.Zero;
            l[loss.Offset + i * loss.Strides[0]] = -lp[logProbs.Offset + i * logProbs.Strides[0] + c * logProbs.Strides[1]] * weight;
            v[valid.Offset + i * valid.Strides[0]] = weight;
            if (keep) count++;
        }
        return count;
    }

    private static void CrossEntropyRowsBackwardTyped<T>(in StridedView logProbs, in StridedView targets, long ignoreIndex, in StridedView scale,
        in StridedView gradient) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var lp = Data<T>(logProbs.Storage);
        var t = Data<long>(targets.Storage);
        var s = Data<T>(scale.Storage);
        var g = Data<T>(gradient.Storage);
        int rows = logProbs.Shape[0], classes = logProbs.Shape[1];
        bool rowsContiguous = logProbs.Strides[1] == 1 && gradient.Strides[1] == 1;
        for (int i = 0; i < rows; i++)
        {
            int c = TargetClass(t, targets, i, ignoreIndex, classes, out _);
            T rowScale = s[scale.Offset + i * scale.Strides[0]];
            int lpRow = logProbs.Offset + i * logProbs.Strides[0], gRow = gradient.Offset + i * gradient.Strides[0];
            if (rowsContiguous)
            {
                var row = g.AsSpan(gRow, classes);
                TensorPrimitives.Exp(lp.AsSpan(lpRow, classes), row);
                row[c] -= T.One;
                TensorPrimitives.Multiply(row, rowScale, row);
            }
            else
                for (int j = 0; j < classes; j++)
                {
                    T e = T.Exp(lp[lpRow + j * logProbs.Strides[1]]);
                    g[gRow + j * gradient.Strides[1]] = (j == c ? e - T.One : e) * rowScale;
                }
        }
    }
}
