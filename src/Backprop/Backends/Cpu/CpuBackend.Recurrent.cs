using System.Numerics.Tensors;

namespace Backprop.Backends.Cpu;

// One batch row at a time, rows split across threads when a step is large enough to pay for it. The activations are
// TensorPrimitives' (the same functions the Sigmoid and Tanh ops use); the arithmetic around them runs Vector<T>
// lanes and then a scalar tail with the same operations in the same order, so no result depends on the SIMD width.
public sealed partial class CpuBackend
{
    public PackedOperand? PackMatMulRight(StridedView b, int leftRows)
    {
        if (b.Rank != 2)
            throw new ShapeMismatchException("PackMatMulRight", $"expected a matrix; got {Shape.Format(b.Shape)}");
        return b.DType switch
        {
            DType.Float32 => Gemm.Prepack(b.Shape[0], b.Shape[1], Data<float>(b.Storage), b.Offset, MatrixLayout.Of(b), b.DType, GemmSettings.Default, leftRows),
            DType.Float64 => Gemm.Prepack(b.Shape[0], b.Shape[1], Data<double>(b.Storage), b.Offset, MatrixLayout.Of(b), b.DType, GemmSettings.Default, leftRows),
            _ => null,
        };
    }

    public void MatMulPacked(StridedView a, PackedOperand b, StridedView c, bool accumulate)
    {
        if (a.Rank != 2 || c.Rank != 2 || a.Shape[1] != b.Rows || c.Shape[0] != a.Shape[0] || c.Shape[1] != b.Columns)
            throw new ShapeMismatchException("MatMulPacked", $"cannot multiply {Shape.Format(a.Shape)} by a packed [{b.Rows}, {b.Columns}] into {Shape.Format(c.Shape)}");
        CheckSameDType("MatMulPacked", a, c);
        switch (b)
        {
            case PrepackedB<float> f when c.DType == DType.Float32:
                Gemm.Multiply(a.Shape[0], Data<float>(a.Storage), a.Offset, MatrixLayout.Of(a), f, Data<float>(c.Storage), c.Offset, MatrixLayout.Of(c), accumulate, GemmSettings.Default);
                break;
            case PrepackedB<double> d when c.DType == DType.Float64:
                Gemm.Multiply(a.Shape[0], Data<double>(a.Storage), a.Offset, MatrixLayout.Of(a), d, Data<double>(c.Storage), c.Offset, MatrixLayout.Of(c), accumulate, GemmSettings.Default);
                break;
            default:
                throw new ArgumentException($"MatMulPacked: the packed operand ({b.DType.DisplayName()}) was not packed by this backend for {c.DType.DisplayName()}.");
        }
    }

    public void LstmCellForward(StridedView gates, StridedView? input, StridedView? bias, StridedView cell, StridedView hiddenOut, StridedView cellOut,
        StridedView tanhCellOut)
    {
        int hidden = cell.Shape[^1];
        CheckRecurrentViews("LstmCellForward", gates.Shape[0], (gates, 4 * hidden), (cell, hidden), (hiddenOut, hidden), (cellOut, hidden),
            (tanhCellOut, hidden));
        if (input is { } p) CheckRecurrentViews("LstmCellForward", gates.Shape[0], (p, 4 * hidden));
        if (gates.DType == DType.Float32)
            RunRows(new LstmForwardRows<float>(gates, input, bias, cell, hiddenOut, cellOut, tanhCellOut, hidden), gates.Shape[0], 4 * hidden);
        else RunRows(new LstmForwardRows<double>(gates, input, bias, cell, hiddenOut, cellOut, tanhCellOut, hidden), gates.Shape[0], 4 * hidden);
    }

    public void LstmCellBackward(StridedView gates, StridedView cell, StridedView tanhCellOut, StridedView gradHiddenOut, StridedView gradCellOut,
        StridedView gradGates, StridedView gradCell)
    {
        int hidden = cell.Shape[^1];
        CheckRecurrentViews("LstmCellBackward", gates.Shape[0], (gates, 4 * hidden), (cell, hidden), (tanhCellOut, hidden),
            (gradHiddenOut, hidden), (gradCellOut, hidden), (gradGates, 4 * hidden), (gradCell, hidden));
        // Arithmetic only (the forward kept tanh(c')), but four gate gradients a unit: split as the forward is, which
        // at a 32 × 256 step is worth both cores (serial, the lstm workload's backward took 0.7 ms longer).
        if (gates.DType == DType.Float32)
            RunRows(new LstmBackwardRows<float>(gates, cell, tanhCellOut, gradHiddenOut, gradCellOut, gradGates, gradCell, hidden), gates.Shape[0], 4 * hidden);
        else RunRows(new LstmBackwardRows<double>(gates, cell, tanhCellOut, gradHiddenOut, gradCellOut, gradGates, gradCell, hidden), gates.Shape[0], 4 * hidden);
    }

    public void GruCellForward(StridedView inputGates, StridedView hiddenGates, StridedView? bias, StridedView hidden, StridedView output,
        StridedView workspace)
    {
        int size = hidden.Shape[^1];
        CheckRecurrentViews("GruCellForward", inputGates.Shape[0], (inputGates, 3 * size), (hiddenGates, 3 * size), (hidden, size),
            (output, size), (workspace, 4 * size));
        if (inputGates.DType == DType.Float32)
            RunRows(new GruForwardRows<float>(inputGates, hiddenGates, bias, hidden, output, workspace, size), inputGates.Shape[0], 3 * size);
        else RunRows(new GruForwardRows<double>(inputGates, hiddenGates, bias, hidden, output, workspace, size), inputGates.Shape[0], 3 * size);
    }

    public void GruCellBackward(StridedView workspace, StridedView hidden, StridedView gradOutput, StridedView gradInputGates,
        StridedView gradHiddenGates, StridedView gradHidden)
    {
        int size = hidden.Shape[^1];
        CheckRecurrentViews("GruCellBackward", workspace.Shape[0], (workspace, 4 * size), (hidden, size), (gradOutput, size),
            (gradInputGates, 3 * size), (gradHiddenGates, 3 * size), (gradHidden, size));
        if (workspace.DType == DType.Float32)
            RunRows(new GruBackwardRows<float>(workspace, hidden, gradOutput, gradInputGates, gradHiddenGates, gradHidden, size), workspace.Shape[0], size);
        else RunRows(new GruBackwardRows<double>(workspace, hidden, gradOutput, gradInputGates, gradHiddenGates, gradHidden, size), workspace.Shape[0], size);
    }

    public void RnnCellForward(StridedView preactivation, StridedView? input, StridedView? bias, bool relu)
    {
        int size = preactivation.Shape[^1];
        CheckRecurrentViews("RnnCellForward", preactivation.Shape[0], (preactivation, size));
        if (input is { } p) CheckRecurrentViews("RnnCellForward", preactivation.Shape[0], (p, size));
        if (preactivation.DType == DType.Float32) RunRows(new RnnForwardRows<float>(preactivation, input, bias, relu, size), preactivation.Shape[0], size);
        else RunRows(new RnnForwardRows<double>(preactivation, input, bias, relu, size), preactivation.Shape[0], size);
    }

    public void RnnCellBackward(StridedView output, StridedView gradOutput, StridedView gradPreactivation, bool relu)
    {
        int size = output.Shape[^1];
        CheckRecurrentViews("RnnCellBackward", output.Shape[0], (output, size), (gradOutput, size), (gradPreactivation, size));
        if (output.DType == DType.Float32) RunRows(new RnnBackwardRows<float>(output, gradOutput, gradPreactivation, relu, size), output.Shape[0], size);
        else RunRows(new RnnBackwardRows<double>(output, gradOutput, gradPreactivation, relu, size), output.Shape[0], size);
    }

    private static void CheckRecurrentViews(string op, int rows, params ReadOnlySpan<(StridedView View, int Columns)> views)
    {
        var dtype = views[0].View.DType;
        foreach (var (view, columns) in views)
        {
            if (view.Rank != 2 || view.Shape[0] != rows || view.Shape[1] != columns || !view.IsContiguous)
                throw new ArgumentException($"{op}: expected a contiguous [{rows}, {columns}] view; got {Shape.Format(view.Shape)}{(view.IsContiguous ? "" : " (not contiguous)")}.");
            if (view.DType != dtype || dtype is not (DType.Float32 or DType.Float64))
                throw new ArgumentException($"{op}: needs Float32 or Float64 views of one dtype; got {dtype.DisplayName()} and {view.DType.DisplayName()}.");
        }
    }

    /// <summary>Runs a row kernel over <paramref name="rows"/> rows, on several threads once a step has enough transcendental work.</summary>
    private static void RunRows<TBody>(TBody body, int rows, int transcendentalsPerRow) where TBody : struct, IParallelBody
    {
        int grain = Math.Max(1, ParallelTranscendentalMin / 4 / Math.Max(transcendentalsPerRow, 1));
        if ((long)rows * transcendentalsPerRow < ParallelTranscendentalMin) body.Execute(0, rows);
        else CpuParallel.For(rows, ref body, grain);
    }

    private static Span<T> Row<T>(T[] data, int offset, int row, int width) where T : unmanaged => data.AsSpan(offset + row * width, width);

    private readonly struct LstmForwardRows<T>(StridedView gates, StridedView? input, StridedView? bias, StridedView cell, StridedView hiddenOut,
        StridedView cellOut, StridedView tanhCellOut, int hidden) : IParallelBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly T[] _gates = Data<T>(gates.Storage), _cell = Data<T>(cell.Storage), _hiddenOut = Data<T>(hiddenOut.Storage),
            _cellOut = Data<T>(cellOut.Storage), _tanhCellOut = Data<T>(tanhCellOut.Storage);
        private readonly T[]? _input = input is { } p ? Data<T>(p.Storage) : null;
        private readonly T[]? _bias = bias is { } b ? Data<T>(b.Storage) : null;

        public void Execute(int start, int end)
        {
            int h = hidden;
            for (int row = start; row < end; row++)
            {
                var g = Row(_gates, gates.Offset, row, 4 * h);
                if (_input is not null) TensorPrimitives.Add(Row(_input, input!.Value.Offset, row, 4 * h), g, g);
                if (_bias is not null) TensorPrimitives.Add(g, _bias.AsSpan(bias!.Value.Offset, 4 * h), g);
                TensorPrimitives.Sigmoid(g[..(2 * h)], g[..(2 * h)]);
                TensorPrimitives.Tanh(g.Slice(2 * h, h), g.Slice(2 * h, h));
                TensorPrimitives.Sigmoid(g[(3 * h)..], g[(3 * h)..]);
                var c = Row(_cell, cell.Offset, row, h);
                var hNew = Row(_hiddenOut, hiddenOut.Offset, row, h);
                var cNew = Row(_cellOut, cellOut.Offset, row, h);
                // c' = f·c + i·g
                TensorPrimitives.Multiply(g.Slice(h, h), c, cNew);
                TensorPrimitives.MultiplyAdd(g[..h], g.Slice(2 * h, h), cNew, cNew);
                // h' = o·tanh(c'), tanh(c') kept for the backward
                var tanhC = Row(_tanhCellOut, tanhCellOut.Offset, row, h);
                TensorPrimitives.Tanh(cNew, tanhC);
                TensorPrimitives.Multiply(tanhC, g[(3 * h)..], hNew);
            }
        }
    }

    private readonly struct LstmBackwardRows<T>(StridedView gates, StridedView cell, StridedView tanhCellOut, StridedView gradHiddenOut,
        StridedView gradCellOut, StridedView gradGates, StridedView gradCell, int hidden) : IParallelBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly T[] _gates = Data<T>(gates.Storage), _cell = Data<T>(cell.Storage), _tanhCellOut = Data<T>(tanhCellOut.Storage),
            _gradHiddenOut = Data<T>(gradHiddenOut.Storage), _gradCellOut = Data<T>(gradCellOut.Storage), _gradGates = Data<T>(gradGates.Storage),
            _gradCell = Data<T>(gradCell.Storage);

        public void Execute(int start, int end)
        {
            int h = hidden;
            for (int row = start; row < end; row++)
            {
                ReadOnlySpan<T> a = Row(_gates, gates.Offset, row, 4 * h);
                ReadOnlySpan<T> c = Row(_cell, cell.Offset, row, h);
                ReadOnlySpan<T> gh = Row(_gradHiddenOut, gradHiddenOut.Offset, row, h);
                ReadOnlySpan<T> gcOut = Row(_gradCellOut, gradCellOut.Offset, row, h);
                var gg = Row(_gradGates, gradGates.Offset, row, 4 * h);
                var gc = Row(_gradCell, gradCell.Offset, row, h);
                ReadOnlySpan<T> tanhC = Row(_tanhCellOut, tanhCellOut.Offset, row, h);
                int j = 0;
                if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
                {
                    var one = Vector<T>.One;
                    for (; j <= h - Vector<T>.Count; j += Vector<T>.Count)
                    {
                        var i = new Vector<T>(a[j..]);
                        var f = new Vector<T>(a[(h + j)..]);
                        var g = new Vector<T>(a[(2 * h + j)..]);
                        var o = new Vector<T>(a[(3 * h + j)..]);
                        var t = new Vector<T>(tanhC[j..]);
                        var dh = new Vector<T>(gh[j..]);
                        var total = new Vector<T>(gcOut[j..]) + dh * o * (one - t * t);
                        (total * g * i * (one - i)).CopyTo(gg[j..]);
                        (total * new Vector<T>(c[j..]) * f * (one - f)).CopyTo(gg[(h + j)..]);
                        (total * i * (one - g * g)).CopyTo(gg[(2 * h + j)..]);
                        (dh * t * o * (one - o)).CopyTo(gg[(3 * h + j)..]);
                        (total * f).CopyTo(gc[j..]);
                    }
                }
                for (; j < h; j++)
                {
                    T i = a[j], f = a[h + j], g = a[2 * h + j], o = a[3 * h + j], t = tanhC[j], dh = gh[j];
                    T total = gcOut[j] + dh * o * (T.One - t * t);
                    gg[j] = total * g * i * (T.One - i);
                    gg[h + j] = total * c[j] * f * (T.One - f);
                    gg[2 * h + j] = total * i * (T.One - g * g);
                    gg[3 * h + j] = dh * t * o * (T.One - o);
                    gc[j] = total * f;
                }
            }
        }
    }

    private readonly struct GruForwardRows<T>(StridedView inputGates, StridedView hiddenGates, StridedView? bias, StridedView hidden,
        StridedView output, StridedView workspace, int size) : IParallelBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly T[] _input = Data<T>(inputGates.Storage), _hiddenGates = Data<T>(hiddenGates.Storage), _hidden = Data<T>(hidden.Storage),
            _output = Data<T>(output.Storage), _workspace = Data<T>(workspace.Storage);
        private readonly T[]? _bias = bias is { } b ? Data<T>(b.Storage) : null;

        public void Execute(int start, int end)
        {
            int h = size;
            for (int row = start; row < end; row++)
            {
                ReadOnlySpan<T> x = Row(_input, inputGates.Offset, row, 3 * h);
                var hg = Row(_hiddenGates, hiddenGates.Offset, row, 3 * h);
                if (_bias is not null) TensorPrimitives.Add(hg, _bias.AsSpan(bias!.Value.Offset, 3 * h), hg);
                var w = Row(_workspace, workspace.Offset, row, 4 * h);
                var rz = w[..(2 * h)];
                TensorPrimitives.Add(x[..(2 * h)], hg[..(2 * h)], rz);
                TensorPrimitives.Sigmoid(rz, rz);
                var hn = w[(3 * h)..];
                hg[(2 * h)..].CopyTo(hn);
                // n = tanh(x_n + r·(h_n + b_hn))
                var n = w.Slice(2 * h, h);
                TensorPrimitives.MultiplyAdd(w[..h], hn, x[(2 * h)..], n);
                TensorPrimitives.Tanh(n, n);
                // h' = n + z·(h − n)
                var hNew = Row(_output, output.Offset, row, h);
                TensorPrimitives.Subtract(Row(_hidden, hidden.Offset, row, h), n, hNew);
                TensorPrimitives.MultiplyAdd(w.Slice(h, h), hNew, n, hNew);
            }
        }
    }

    private readonly struct GruBackwardRows<T>(StridedView workspace, StridedView hidden, StridedView gradOutput, StridedView gradInputGates,
        StridedView gradHiddenGates, StridedView gradHidden, int size) : IParallelBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly T[] _workspace = Data<T>(workspace.Storage), _hidden = Data<T>(hidden.Storage), _gradOutput = Data<T>(gradOutput.Storage),
            _gradInput = Data<T>(gradInputGates.Storage), _gradHiddenGates = Data<T>(gradHiddenGates.Storage), _gradHidden = Data<T>(gradHidden.Storage);

        public void Execute(int start, int end)
        {
            int h = size;
            for (int row = start; row < end; row++)
            {
                ReadOnlySpan<T> w = Row(_workspace, workspace.Offset, row, 4 * h);
                ReadOnlySpan<T> hp = Row(_hidden, hidden.Offset, row, h);
                ReadOnlySpan<T> go = Row(_gradOutput, gradOutput.Offset, row, h);
                var gx = Row(_gradInput, gradInputGates.Offset, row, 3 * h);
                var gh = Row(_gradHiddenGates, gradHiddenGates.Offset, row, 3 * h);
                var ghp = Row(_gradHidden, gradHidden.Offset, row, h);
                int j = 0;
                if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
                {
                    var one = Vector<T>.One;
                    for (; j <= h - Vector<T>.Count; j += Vector<T>.Count)
                    {
                        var r = new Vector<T>(w[j..]);
                        var z = new Vector<T>(w[(h + j)..]);
                        var n = new Vector<T>(w[(2 * h + j)..]);
                        var hn = new Vector<T>(w[(3 * h + j)..]);
                        var g = new Vector<T>(go[j..]);
                        var dn = g * (one - z) * (one - n * n);
                        var dr = dn * hn * r * (one - r);
                        var dz = g * (new Vector<T>(hp[j..]) - n) * z * (one - z);
                        dr.CopyTo(gx[j..]);
                        dr.CopyTo(gh[j..]);
                        dz.CopyTo(gx[(h + j)..]);
                        dz.CopyTo(gh[(h + j)..]);
                        dn.CopyTo(gx[(2 * h + j)..]);
                        (dn * r).CopyTo(gh[(2 * h + j)..]);
                        (g * z).CopyTo(ghp[j..]);
                    }
                }
                for (; j < h; j++)
                {
                    T r = w[j], z = w[h + j], n = w[2 * h + j], hn = w[3 * h + j], g = go[j];
                    T dn = g * (T.One - z) * (T.One - n * n);
                    T dr = dn * hn * r * (T.One - r);
                    T dz = g * (hp[j] - n) * z * (T.One - z);
                    gx[j] = gh[j] = dr;
                    gx[h + j] = gh[h + j] = dz;
                    gx[2 * h + j] = dn;
                    gh[2 * h + j] = dn * r;
                    ghp[j] = g * z;
                }
            }
        }
    }

    private readonly struct RnnForwardRows<T>(StridedView preactivation, StridedView? input, StridedView? bias, bool relu, int size) : IParallelBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly T[] _pre = Data<T>(preactivation.Storage);
        private readonly T[]? _input = input is { } i ? Data<T>(i.Storage) : null;
        private readonly T[]? _bias = bias is { } b ? Data<T>(b.Storage) : null;

        public void Execute(int start, int end)
        {
            for (int row = start; row < end; row++)
            {
                var p = Row(_pre, preactivation.Offset, row, size);
                if (_input is not null) TensorPrimitives.Add(Row(_input, input!.Value.Offset, row, size), p, p);
                if (_bias is not null) TensorPrimitives.Add(p, _bias.AsSpan(bias!.Value.Offset, size), p);
                if (relu) TensorPrimitives.Max(p, T.Zero, p);
                else TensorPrimitives.Tanh(p, p);
            }
        }
    }

    private readonly struct RnnBackwardRows<T>(StridedView output, StridedView gradOutput, StridedView gradPreactivation, bool relu, int size) : IParallelBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly T[] _output = Data<T>(output.Storage), _gradOutput = Data<T>(gradOutput.Storage), _gradPre = Data<T>(gradPreactivation.Storage);

        public void Execute(int start, int end)
        {
            for (int row = start; row < end; row++)
            {
                ReadOnlySpan<T> y = Row(_output, output.Offset, row, size);
                ReadOnlySpan<T> g = Row(_gradOutput, gradOutput.Offset, row, size);
                var d = Row(_gradPre, gradPreactivation.Offset, row, size);
                for (int j = 0; j < size; j++)
                    d[j] = relu ? (y[j] > T.Zero ? g[j] : T.Zero) : g[j] * (T.One - y[j] * y[j]);
            }
        }
    }
}
