namespace Backprop.Ops;

/// <summary>The four recurrent cells, as the fused step ops implement them.</summary>
internal enum RecurrentCellKind
{
    RnnTanh,
    RnnRelu,
    Lstm,
    Gru,
}

/// <summary>
/// One layer-direction's run over a sequence: the input projection of all steps P = x·W_ihᵀ + b_ih [T, B, G·H]
/// (one GEMM, made by the caller), the recurrent weights, and the per-step fused ops that consume them.
/// </summary>
/// <remarks>
/// Note [Recurrent gradients through one sink]. Slicing P per step would give every step's backward a gradient of
/// P's full size to fill with zeros and add up: O(T²) memory traffic, and a W_hh gradient GEMM with K = batch per
/// step. Instead the step ops take a one-element token made by <see cref="RecurrentInputsOp"/> (whose inputs are P,
/// W_hh and b_hh), write their pre-activation gradients into row t of this object's [T, B, G·H] buffers, and send
/// the token a zero. The engine runs the sink only after every step that could reach it (they are its consumers),
/// so by then the buffers are complete; it then returns ∂P as one tensor and ∂W_hh as one GEMM over all steps,
/// as cuDNN and PyTorch's CPU path do. Buffers belong to one backward pass: they are keyed by the sink's visit stamp,
/// so a second pass (retainGraph) starts from zeros. Under createGraph the steps store differentiable gradients
/// instead, which the sink stacks with tensor ops, so second derivatives flow through the same route.
/// </remarks>
internal sealed class RecurrentSequence
{
    private readonly Tensor[] _previousHidden;
    private int _passStamp;
    private Tensor? _inputGradient, _hiddenGradient;
    private Tensor?[]? _inputGradients, _hiddenGradients;
    private bool[]? _rowsWritten;
    private PackedOperand? _packedTransposed, _packedWeight;
    private bool _triedPackHidden;
    private int _packedStamp = -1;

    public RecurrentSequence(RecurrentCellKind kind, Tensor projected, Tensor weightHh, Tensor? biasHh)
    {
        Kind = kind;
        Projected = projected.IsContiguous ? projected : projected.Contiguous();
        ProjectedValues = Projected.Detach();
        WeightHh = weightHh;
        BiasHh = biasHh;
        Steps = projected.Size(0);
        Batch = projected.Size(1);
        Gates = projected.Size(2);
        _previousHidden = new Tensor[Steps];
        bool record = Autograd.IsRecording(Projected, weightHh) || (biasHh is not null && Autograd.IsRecording(biasHh));
        Token = record ? RecurrentInputsOp.Apply(this) : Tensor.Zeros(new Shape(1), projected.DType, projected.Device);
    }

    public RecurrentCellKind Kind { get; }

    /// <summary>x·W_ihᵀ + b_ih for all steps [T, B, G·H] (with its graph).</summary>
    public Tensor Projected { get; }

    /// <summary>The same values without a graph, which the forward kernels read.</summary>
    public Tensor ProjectedValues { get; }

    public Tensor WeightHh { get; }

    public Tensor? BiasHh { get; }

    public int Steps { get; }

    public int Batch { get; }

    /// <summary>G·H: the width of a step's pre-activations.</summary>
    public int Gates { get; }

    /// <summary>What every step op takes as its first input: the sink's output, or a plain tensor when nothing records.</summary>
    public Tensor Token { get; }

    internal RecurrentInputsOp? Sink { get; set; }

    /// <summary>The h each step read (the sink's ∂W_hh needs them all).</summary>
    public IReadOnlyList<Tensor> PreviousHidden => _previousHidden;

    /// <summary>Runs step <paramref name="t"/> from (h, c): returns the new h (before any LSTM projection) and c.</summary>
    public (Tensor H, Tensor? C) Step(int t, Tensor h, Tensor? c)
    {
        if (h.Size(0) != Batch)
            throw new ShapeMismatchException("Recurrent step", $"hidden state {h.Shape} does not match the batch of the projected input {Projected.Shape}");
        _previousHidden[t] = h;
        switch (Kind)
        {
            case RecurrentCellKind.Lstm:
                var packed = LstmStepOp.Apply(this, t, h, c!);
                return (packed.Select(0, 0), packed.Select(0, 1));
            case RecurrentCellKind.Gru:
                return (GruStepOp.Apply(this, t, h), null);
            default:
                return (RnnStepOp.Apply(this, t, h, relu: Kind == RecurrentCellKind.RnnRelu), null);
        }
    }

    /// <summary>
    /// Runs LSTM step <paramref name="t"/> from the packed state [2, B, H] (h then c), whose h part is
    /// <paramref name="h"/> (a view of it, or the initial h it was stacked from): returns the next packed state.
    /// </summary>
    public Tensor StepPacked(int t, Tensor state, Tensor h)
    {
        if (state.Rank != 3 || state.Size(0) != 2 || state.Size(1) != Batch)
            throw new ShapeMismatchException("Recurrent step", $"packed state {state.Shape} does not match [2, {Batch}, hidden] for the projected input {Projected.Shape}");
        _previousHidden[t] = h;
        return LstmStepOp.ApplyPacked(this, t, state);
    }

    /// <summary>The rows P[t] [B, G·H] the kernels read.</summary>
    public Tensor ProjectedStep(int t) => ProjectedValues.Select(0, t);

    /// <summary>
    /// <paramref name="output"/> = h·W_hhᵀ (or += when <paramref name="accumulate"/>), the forward GEMM of every step.
    /// W_hhᵀ is packed for the GEMM once, at the first step, rather than at each: at batch 32 the copy of a
    /// [256, 1024] weight costs as much as a third of the product. The steps of one sequence all see one W_hh (an
    /// optimizer step comes between sequences), so the snapshot is what the unpacked product would read.
    /// </summary>
    public void MultiplyHidden(Tensor h, Tensor output, bool accumulate)
    {
        var backend = ProjectedValues.Backend;
        var w = WeightHh;
        var transposed = new StridedView(w.Storage, [w.Sizes[1], w.Sizes[0]], [w.StrideArray[1], w.StrideArray[0]], w.Offset, false);
        if (Steps > 1 && !_triedPackHidden)
        {
            _triedPackHidden = true;
            _packedTransposed = backend.PackMatMulRight(transposed, Batch);
        }
        if (_packedTransposed is not null) backend.MatMulPacked(h.Strided, _packedTransposed, output.Strided, accumulate);
        else backend.MatMul(h.Strided, transposed, output.Strided, accumulate);
    }

    /// <summary>
    /// <paramref name="output"/> = ∂G·W_hh (or += when <paramref name="accumulate"/>), the backward GEMM of every step,
    /// with W_hh packed once per backward pass as <see cref="MultiplyHidden"/> does for the forward. The pass is told
    /// by the calling step's visit stamp (the engine's stamp of this backward), so a second pass over a retained graph,
    /// perhaps after an optimizer step, packs W_hh afresh.
    /// </summary>
    public void MultiplyGradient(Tensor gradient, Tensor output, bool accumulate, int passStamp)
    {
        var backend = ProjectedValues.Backend;
        if (Steps > 1 && _packedStamp != passStamp)
        {
            _packedStamp = passStamp;
            _packedWeight = backend.PackMatMulRight(WeightHh.Strided, Batch);
        }
        if (_packedWeight is not null && _packedStamp == passStamp) backend.MatMulPacked(gradient.Strided, _packedWeight, output.Strided, accumulate);
        else backend.MatMul(gradient.Strided, WeightHh.Strided, output.Strided, accumulate);
    }

    private void BeginPass(bool graph)
    {
        int stamp = Sink!.VisitStamp;
        if (_passStamp == stamp && (graph ? _inputGradients is not null : _inputGradient is not null)) return;
        _passStamp = stamp;
        if (graph)
        {
            _inputGradients = new Tensor?[Steps];
            _hiddenGradients = Kind == RecurrentCellKind.Gru ? new Tensor?[Steps] : _inputGradients;
        }
        else
        {
            // Every step that runs backward writes its whole row (see ClearUnwrittenRows), so the buffers start empty.
            var dtype = Projected.DType;
            var backend = ProjectedValues.Backend;
            _inputGradient = Tensor.Empty(Projected.Sizes, dtype, backend);
            _hiddenGradient = Kind == RecurrentCellKind.Gru ? Tensor.Empty(Projected.Sizes, dtype, backend) : _inputGradient;
            _rowsWritten = new bool[Steps];
        }
    }

    /// <summary>Row t of this pass's ∂P buffer, for a step's kernel to write (kernel mode).</summary>
    public Tensor InputGradientRows(int t)
    {
        BeginPass(graph: false);
        _rowsWritten![t] = true;
        return _inputGradient!.Select(0, t);
    }

    /// <summary>Row t of this pass's buffer of gradients of h·W_hhᵀ + b_hh (the same buffer except for the GRU).</summary>
    public Tensor HiddenGradientRows(int t)
    {
        BeginPass(graph: false);
        _rowsWritten![t] = true;
        return _hiddenGradient!.Select(0, t);
    }

    /// <summary>Zeroes the rows of steps that got no gradient this pass (those after the last output the loss used).</summary>
    private void ClearUnwrittenRows()
    {
        if (_rowsWritten is null) return;
        var backend = ProjectedValues.Backend;
        for (int t = 0; t < Steps; t++)
        {
            if (_rowsWritten[t]) continue;
            backend.Fill(_inputGradient!.Select(0, t).Strided, 0);
            if (!ReferenceEquals(_hiddenGradient, _inputGradient)) backend.Fill(_hiddenGradient!.Select(0, t).Strided, 0);
        }
        _rowsWritten = null;
    }

    /// <summary>Keeps step t's differentiable gradients (createGraph mode).</summary>
    /// <summary>
    /// Forward mode: the tangent of step <paramref name="t"/>'s input part P[t] (from the tangent P carries), or null.
    /// The step ops read the tangents of P, W_hh and b_hh here because they reach the steps through the token, not as inputs.
    /// </summary>
    public Tensor? InputTangent(int t) => ForwardAD.TangentOf(Projected)?.Select(0, t);

    /// <summary>Forward mode: the tangent of h·W_hhᵀ + b_hh given h and its tangent <paramref name="dh"/> (null: zero).</summary>
    public Tensor? HiddenTangent(Tensor h, Tensor? dh)
    {
        Tensor? tangent = dh is null ? null : dh.MatMul(WeightHh.T);
        if (ForwardAD.TangentOf(WeightHh) is { } dw) tangent = ForwardAD.Plus(tangent, h.MatMul(dw.T));
        if (BiasHh is not null && ForwardAD.TangentOf(BiasHh) is { } db) tangent = ForwardAD.Plus(tangent, db);
        return tangent;
    }

    /// <summary>Forward mode: the tangent of the pre-activations P[t] + h·W_hhᵀ + b_hh, or null.</summary>
    public Tensor? PreActivationTangent(int t, Tensor h, Tensor? dh) => ForwardAD.Plus(InputTangent(t), HiddenTangent(h, dh));

    public void StoreGradients(int t, Tensor input, Tensor hidden)
    {
        BeginPass(graph: true);
        _inputGradients![t] = input;
        _hiddenGradients![t] = hidden;
    }

    /// <summary>Drops what only backward needed, once the graph is freed.</summary>
    public void Release()
    {
        Array.Clear(_previousHidden);
        _packedTransposed = _packedWeight = null;
        _packedStamp = -1;
        TakeGradients();
    }

    /// <summary>Hands this pass's gradients to the sink and forgets them.</summary>
    public (Tensor? Input, Tensor? Hidden, Tensor?[]? Inputs, Tensor?[]? Hiddens) TakeGradients()
    {
        ClearUnwrittenRows();
        var result = (_inputGradient, _hiddenGradient, _inputGradients, _hiddenGradients);
        _inputGradient = _hiddenGradient = null;
        _inputGradients = _hiddenGradients = null;
        return result;
    }
}
