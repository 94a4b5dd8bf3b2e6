using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Backprop.Backends.Cpu;

namespace Backprop.Tests.Backends;

/// <summary>
/// A deliberately trivial second backend: a device of its own ("counting", <see cref="DeviceType.PrivateUse1"/>) whose
/// storages wrap CPU storages, and whose kernels count their calls and forward to <see cref="CpuBackend"/>.
/// </summary>
/// <remarks>
/// Each kernel unwraps its operands before forwarding and refuses an operand that is not a <see cref="CountingStorage"/>.
/// So a library path that allocates CPU storage itself, names <c>Device.Cpu</c>, or calls a CPU kernel directly makes a
/// tensor that fails here (or is left on the CPU, which the tests check), and a path that reaches into CPU memory
/// (<c>storage is CpuStorage&lt;T&gt;</c>) sees a storage that is not one and must take its device-neutral route.
/// docs/architecture.md, Note [Adding a backend], says what this proves and what it does not.
/// </remarks>
internal sealed class CountingBackend : IBackend
{
    public const string Name = "counting";

    public static CountingBackend Instance { get; } = new();

    /// <summary>Registers the backend (idempotent) and returns its device.</summary>
    public static Device Register()
    {
        BackendRegistry.RegisterPrivateUse1(Name, _ => Instance);
        return Instance.Device;
    }

    private readonly CpuBackend _inner = CpuBackend.Instance;
    private readonly ConcurrentDictionary<string, long> _calls = new();

    public Device Device { get; } = new(DeviceType.PrivateUse1);

    /// <summary>Calls so far of the member named <paramref name="member"/>.</summary>
    public long Calls(string member) => _calls.GetValueOrDefault(member);

    public long TotalCalls => _calls.Values.Sum();

    private void Count([CallerMemberName] string member = "") => _calls.AddOrUpdate(member, 1, (_, n) => n + 1);

    /// <summary>The CPU view under a counting view; any other storage means some path bypassed this backend.</summary>
    private StridedView V(in StridedView view, [CallerMemberName] string member = "")
    {
        if (view.Storage is not CountingStorage counting)
            throw new InvalidOperationException(
                $"CountingBackend.{member}: an operand of shape [{string.Join(", ", view.Shape)}] lives on {view.Storage.Device}, " +
                $"not on {Device}: some path made it without the tensor's backend.");
        return new StridedView(counting.Inner, view.Shape, view.Strides, view.Offset, view.IsContiguous);
    }

    private StridedView? V(in StridedView? view, [CallerMemberName] string member = "") =>
        view is { } v ? V(v, member) : null;

    // ---- memory ----

    public Storage Allocate(DType dtype, int length, bool zeroed)
    {
        Count();
        return new CountingStorage(_inner.Allocate(dtype, length, zeroed));
    }

    public Storage Upload<T>(ReadOnlySpan<T> data) where T : unmanaged
    {
        Count();
        return new CountingStorage(_inner.Upload(data));
    }

    public void Download<T>(StridedView source, Span<T> destination) where T : unmanaged { Count(); _inner.Download(V(source), destination); }
    public void Copy(StridedView source, StridedView destination) { Count(); _inner.Copy(V(source), V(destination)); }
    public void Fill(StridedView destination, double value) { Count(); _inner.Fill(V(destination), value); }

    // ---- element-wise, reductions, linear algebra, indexing ----

    public void Unary(UnaryOp op, StridedView x, StridedView y, double arg0 = 0, double arg1 = 0) { Count(); _inner.Unary(op, V(x), V(y), arg0, arg1); }
    public void Binary(BinaryOp op, StridedView a, StridedView b, StridedView y) { Count(); _inner.Binary(op, V(a), V(b), V(y)); }
    public void Axpy(double alpha, StridedView x, StridedView y) { Count(); _inner.Axpy(alpha, V(x), V(y)); }
    public void Where(StridedView condition, StridedView a, StridedView b, StridedView y) { Count(); _inner.Where(V(condition), V(a), V(b), V(y)); }
    public void Reduce(ReduceOp op, StridedView x, StridedView y) { Count(); _inner.Reduce(op, V(x), V(y)); }
    public void Sum(StridedView x, StridedView y, double divisor) { Count(); _inner.Sum(V(x), V(y), divisor); }
    public void ArgReduce(bool max, StridedView x, int dim, StridedView indices) { Count(); _inner.ArgReduce(max, V(x), dim, V(indices)); }
    public void Softmax(StridedView x, int dim, StridedView y, bool log) { Count(); _inner.Softmax(V(x), dim, V(y), log); }
    public double CrossEntropyRows(StridedView logProbs, StridedView targets, long ignoreIndex, StridedView loss, StridedView valid) { Count(); return _inner.CrossEntropyRows(V(logProbs), V(targets), ignoreIndex, V(loss), V(valid)); }
    public void CrossEntropyRowsBackward(StridedView logProbs, StridedView targets, long ignoreIndex, StridedView scale, StridedView gradient) { Count(); _inner.CrossEntropyRowsBackward(V(logProbs), V(targets), ignoreIndex, V(scale), V(gradient)); }
    public void AttentionSoftmax(StridedView x, double scale, bool causal, StridedView y) { Count(); _inner.AttentionSoftmax(V(x), scale, causal, V(y)); }
    public void AttentionSoftmaxBackward(StridedView p, StridedView dp, double scale, StridedView ds) { Count(); _inner.AttentionSoftmaxBackward(V(p), V(dp), scale, V(ds)); }
    public void NormalizeRows(StridedView x, double eps, StridedView normalized, StridedView mean, StridedView variance, StridedView inverseStd) { Count(); _inner.NormalizeRows(V(x), eps, V(normalized), V(mean), V(variance), V(inverseStd)); }
    public void NormalizeRowsBackward(StridedView grad, StridedView normalized, StridedView inverseStd, StridedView gradInput) { Count(); _inner.NormalizeRowsBackward(V(grad), V(normalized), V(inverseStd), V(gradInput)); }
    public void MatMulBias(StridedView a, StridedView b, StridedView bias, StridedView c) { Count(); _inner.MatMulBias(V(a), V(b), V(bias), V(c)); }
    public void MatMul(StridedView a, StridedView b, StridedView c, bool accumulate) { Count(); _inner.MatMul(V(a), V(b), V(c), accumulate); }
    public PackedOperand? PackMatMulRight(StridedView b, int leftRows) { Count(); return _inner.PackMatMulRight(V(b), leftRows); }
    public void MatMulPacked(StridedView a, PackedOperand b, StridedView c, bool accumulate) { Count(); _inner.MatMulPacked(V(a), b, V(c), accumulate); }
    public void IndexSelect(StridedView x, int dim, StridedView index, StridedView y) { Count(); _inner.IndexSelect(V(x), dim, V(index), V(y)); }
    public void IndexAdd(StridedView y, int dim, StridedView index, StridedView source) { Count(); _inner.IndexAdd(V(y), dim, V(index), V(source)); }
    public void Gather(StridedView x, int dim, StridedView index, StridedView y) { Count(); _inner.Gather(V(x), dim, V(index), V(y)); }
    public void ScatterAdd(StridedView y, int dim, StridedView index, StridedView source) { Count(); _inner.ScatterAdd(V(y), dim, V(index), V(source)); }

    // ---- decompositions ----

    public int Solve(StridedView a, StridedView b, StridedView x) { Count(); return _inner.Solve(V(a), V(b), V(x)); }
    public void Determinant(StridedView a, StridedView det) { Count(); _inner.Determinant(V(a), V(det)); }
    public void LogDeterminant(StridedView a, StridedView sign, StridedView logAbsDet) { Count(); _inner.LogDeterminant(V(a), V(sign), V(logAbsDet)); }
    public int Cholesky(StridedView a, StridedView l) { Count(); return _inner.Cholesky(V(a), V(l)); }
    public void Qr(StridedView a, StridedView q, StridedView r) { Count(); _inner.Qr(V(a), V(q), V(r)); }
    public void Svd(StridedView a, StridedView u, StridedView s, StridedView vh) { Count(); _inner.Svd(V(a), V(u), V(s), V(vh)); }
    public void Eigh(StridedView a, StridedView w, StridedView v) { Count(); _inner.Eigh(V(a), V(w), V(v)); }

    // ---- convolution and pooling ----

    public void Conv2d(StridedView x, StridedView weight, StridedView? bias, StridedView y, Window2d window, int groups) { Count(); _inner.Conv2d(V(x), V(weight), V(bias), V(y), window, groups); }
    public void ConvTranspose2d(StridedView x, StridedView weight, StridedView? bias, StridedView y, Window2d window, int groups) { Count(); _inner.ConvTranspose2d(V(x), V(weight), V(bias), V(y), window, groups); }
    public void Conv2dWeightGrad(StridedView x, StridedView gradOutput, StridedView gradWeight, Window2d window, int groups) { Count(); _inner.Conv2dWeightGrad(V(x), V(gradOutput), V(gradWeight), window, groups); }
    public void MaxPool2d(StridedView x, StridedView y, StridedView indices, Window2d window) { Count(); _inner.MaxPool2d(V(x), V(y), V(indices), window); }
    public void MaxPool2dBackward(StridedView gradOutput, StridedView indices, StridedView gradInput) { Count(); _inner.MaxPool2dBackward(V(gradOutput), V(indices), V(gradInput)); }
    public void AvgPool2d(StridedView x, StridedView y, Window2d window, bool countIncludePad) { Count(); _inner.AvgPool2d(V(x), V(y), window, countIncludePad); }
    public void AvgPool2dBackward(StridedView gradOutput, StridedView gradInput, Window2d window, bool countIncludePad) { Count(); _inner.AvgPool2dBackward(V(gradOutput), V(gradInput), window, countIncludePad); }

    // ---- element-wise math, scatter, ordering ----

    public void Lerp(StridedView start, StridedView end, StridedView weight, StridedView y) { Count(); _inner.Lerp(V(start), V(end), V(weight), V(y)); }
    public void ScatterReduce(StridedView y, int dim, StridedView index, StridedView source, ScatterReduction reduction, bool includeSelf) { Count(); _inner.ScatterReduce(V(y), dim, V(index), V(source), reduction, includeSelf); }
    public void Cumsum(StridedView x, int dim, StridedView y) { Count(); _inner.Cumsum(V(x), dim, V(y)); }
    public void Cumprod(StridedView x, int dim, StridedView y) { Count(); _inner.Cumprod(V(x), dim, V(y)); }
    public void Flip(StridedView x, int[] dims, StridedView y) { Count(); _inner.Flip(V(x), dims, V(y)); }
    public void Roll(StridedView x, int dim, int shift, StridedView y) { Count(); _inner.Roll(V(x), dim, shift, V(y)); }
    public void Argsort(StridedView x, int dim, bool descending, StridedView indices) { Count(); _inner.Argsort(V(x), dim, descending, V(indices)); }
    public void RankIndex(StridedView x, int dim, int rank, bool propagateNaN, StridedView index) { Count(); _inner.RankIndex(V(x), dim, rank, propagateNaN, V(index)); }
    public void ModeIndex(StridedView x, int dim, StridedView index) { Count(); _inner.ModeIndex(V(x), dim, V(index)); }

    // ---- fused optimizer steps ----

    public void SgdStep(StridedView parameter, StridedView gradient, StridedView? momentumBuffer, in SgdUpdate update) { Count(); _inner.SgdStep(V(parameter), V(gradient), V(momentumBuffer), update); }
    public void AdamStep(StridedView parameter, StridedView gradient, StridedView expAvg, StridedView expAvgSq, StridedView? maxExpAvgSq, in AdamUpdate update) { Count(); _inner.AdamStep(V(parameter), V(gradient), V(expAvg), V(expAvgSq), V(maxExpAvgSq), update); }
    public void RmsPropStep(StridedView parameter, StridedView gradient, StridedView squareAvg, StridedView? gradAvg, StridedView? momentumBuffer, in RmsPropUpdate update) { Count(); _inner.RmsPropStep(V(parameter), V(gradient), V(squareAvg), V(gradAvg), V(momentumBuffer), update); }
    public void AdagradStep(StridedView parameter, StridedView gradient, StridedView sum, in AdagradUpdate update) { Count(); _inner.AdagradStep(V(parameter), V(gradient), V(sum), update); }
    public void LstmCellForward(StridedView gates, StridedView? input, StridedView? bias, StridedView cell, StridedView hiddenOut, StridedView cellOut, StridedView tanhCellOut) { Count(); _inner.LstmCellForward(V(gates), V(input), V(bias), V(cell), V(hiddenOut), V(cellOut), V(tanhCellOut)); }
    public void LstmCellBackward(StridedView gates, StridedView cell, StridedView tanhCellOut, StridedView gradHiddenOut, StridedView gradCellOut, StridedView gradGates, StridedView gradCell) { Count(); _inner.LstmCellBackward(V(gates), V(cell), V(tanhCellOut), V(gradHiddenOut), V(gradCellOut), V(gradGates), V(gradCell)); }
    public void GruCellForward(StridedView inputGates, StridedView hiddenGates, StridedView? bias, StridedView hidden, StridedView output, StridedView workspace) { Count(); _inner.GruCellForward(V(inputGates), V(hiddenGates), V(bias), V(hidden), V(output), V(workspace)); }
    public void GruCellBackward(StridedView workspace, StridedView hidden, StridedView gradOutput, StridedView gradInputGates, StridedView gradHiddenGates, StridedView gradHidden) { Count(); _inner.GruCellBackward(V(workspace), V(hidden), V(gradOutput), V(gradInputGates), V(gradHiddenGates), V(gradHidden)); }
    public void RnnCellForward(StridedView preactivation, StridedView? input, StridedView? bias, bool relu) { Count(); _inner.RnnCellForward(V(preactivation), V(input), V(bias), relu); }
    public void RnnCellBackward(StridedView output, StridedView gradOutput, StridedView gradPreactivation, bool relu) { Count(); _inner.RnnCellBackward(V(output), V(gradOutput), V(gradPreactivation), relu); }

    /// <summary>A storage of the counting device: a CPU storage underneath, which only this backend unwraps.</summary>
    private sealed class CountingStorage(Storage inner) : Storage(inner.DType, inner.Length)
    {
        public Storage Inner { get; } = inner;

        public override IBackend Backend => Instance;
    }
}
