using System.Globalization;
using System.Runtime.CompilerServices;

namespace Backprop.Nn;

/// <summary>
/// What <see cref="Rnn"/>, <see cref="Lstm"/> and <see cref="Gru"/> share: a stack of <see cref="NumLayers"/>
/// recurrent layers, each run forward (and backward in time when <see cref="Bidirectional"/>), with PyTorch's
/// parameter names (<c>weight_ih_l0</c>, <c>weight_hh_l0_reverse</c>, <c>bias_ih_l1</c>, …, <c>weight_hr_l0</c>),
/// shapes, gate order and default initialisation U(−1/√hidden, 1/√hidden), so a state dict moves between the two.
/// </summary>
/// <remarks>
/// Input is [time, batch, inputSize] ([batch, time, inputSize] with <see cref="BatchFirst"/>), or unbatched
/// [time, inputSize]. The output holds the last layer's hidden state at every step, both directions concatenated on
/// the last dimension. Each layer projects the input of all time steps in one GEMM before its time loop; inside it,
/// each step is one fused op (the recurrent GEMM and the cell's pointwise work, forward and backward).
/// </remarks>
public abstract class RecurrentLayer : Module<RecurrentInput, (Tensor Output, RecurrentState State)>, IRecurrentModule
{
    private readonly RecurrentWeights[] _weights;

    private protected RecurrentLayer(int gates, int inputSize, int hiddenSize, int numLayers, bool bias, bool batchFirst,
        double dropout, bool bidirectional, int projSize, DType dtype, Generator? generator, Device? device)
    {
        string name = TypeName;
        if (inputSize <= 0 || hiddenSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(hiddenSize), $"{name}: inputSize and hiddenSize must be positive; got {inputSize} and {hiddenSize}.");
        if (numLayers <= 0)
            throw new ArgumentOutOfRangeException(nameof(numLayers), $"{name}: numLayers must be positive; got {numLayers}.");
        if (!(dropout >= 0 && dropout <= 1))
            throw new ArgumentOutOfRangeException(nameof(dropout), $"{name}: dropout must be in [0, 1]; got {dropout}.");
        if (projSize < 0 || (projSize > 0 && projSize >= hiddenSize))
            throw new ArgumentOutOfRangeException(nameof(projSize), $"{name}: projSize must be 0 (none) or in [1, hiddenSize = {hiddenSize}); got {projSize}.");
        if (!dtype.IsFloatingPoint())
            throw new ArgumentException($"{name}: parameters need a floating-point dtype; got {dtype.DisplayName()}.", nameof(dtype));
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        NumLayers = numLayers;
        Bias = bias;
        BatchFirst = batchFirst;
        Dropout = dropout;
        Bidirectional = bidirectional;
        ProjSize = projSize;
        GateCount = gates;

        int directions = NumDirections, outSize = OutputSize;
        double bound = 1 / Math.Sqrt(hiddenSize);
        Parameter Make(string parameterName, params int[] shape)
        {
            var p = new Parameter(Tensor.Empty(shape, dtype, device));
            Init.Uniform(p, -bound, bound, generator);
            RegisterParameter(parameterName, p);
            return p;
        }
        _weights = new RecurrentWeights[numLayers * directions];
        for (int layer = 0; layer < numLayers; layer++)
            for (int direction = 0; direction < directions; direction++)
            {
                string suffix = $"_l{layer}{(direction == 1 ? "_reverse" : "")}";
                int layerInput = layer == 0 ? inputSize : outSize * directions;
                var weightIh = Make("weight_ih" + suffix, gates * hiddenSize, layerInput);
                var weightHh = Make("weight_hh" + suffix, gates * hiddenSize, outSize);
                var biasIh = bias ? Make("bias_ih" + suffix, gates * hiddenSize) : null;
                var biasHh = bias ? Make("bias_hh" + suffix, gates * hiddenSize) : null;
                var weightHr = projSize > 0 ? Make("weight_hr" + suffix, projSize, hiddenSize) : null;
                _weights[layer * directions + direction] = new RecurrentWeights(weightIh, weightHh, biasIh, biasHh, weightHr);
            }
    }

    public int InputSize { get; }

    public int HiddenSize { get; }

    public int NumLayers { get; }

    /// <summary>Whether the layers have the biases b_ih and b_hh.</summary>
    public bool Bias { get; }

    /// <summary>Whether input and output are [batch, time, features] instead of [time, batch, features].</summary>
    public bool BatchFirst { get; }

    /// <summary>The probability of dropout on the outputs of every layer but the last (in training mode).</summary>
    public double Dropout { get; }

    public bool Bidirectional { get; }

    /// <summary>The LSTM's projection size (0: none).</summary>
    public int ProjSize { get; }

    /// <summary>1 when unidirectional, 2 when bidirectional.</summary>
    public int NumDirections => Bidirectional ? 2 : 1;

    /// <summary>The size of the hidden state each direction emits: <see cref="ProjSize"/> when set, else <see cref="HiddenSize"/>.</summary>
    public int OutputSize => ProjSize > 0 ? ProjSize : HiddenSize;

    /// <summary>Gates per unit: 1 for Rnn, 4 for Lstm (i, f, g, o), 3 for Gru (r, z, n).</summary>
    private protected int GateCount { get; }

    /// <summary>Which cell the layers run.</summary>
    private protected abstract Ops.RecurrentCellKind CellKind { get; }

    /// <summary>Whether the state carries a cell tensor (the LSTM's).</summary>
    private bool HasCell => CellKind == Ops.RecurrentCellKind.Lstm;

    /// <summary>
    /// Called during the forward pass with (t, h_t) for every time step t of the last layer's forward direction. h_t
    /// [batch, outSize] is the very tensor the next step and the output are computed from, so a hook or
    /// <c>RetainGrad</c> on it yields the total derivative ∂L/∂h_t (through the loss and through all later steps).
    /// </summary>
    public Action<int, Tensor>? StepObserver { get; set; }

    /// <summary>Runs the layers over <paramref name="input"/> from <paramref name="state"/> (zeros when null).</summary>
    public (Tensor Output, RecurrentState State) Forward(Tensor input, RecurrentState? state = null,
        [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0) =>
        Forward(new RecurrentInput(input, null, state), callerFile, callerLine);

    /// <summary>
    /// Runs a batch of sequences of different lengths, padded to the longest: Int64 <paramref name="lengths"/> [batch]
    /// gives each one's true length. Outputs past a sequence's end are zero; its final state is the one at its own end
    /// (the reverse direction starts there), so results and gradients are those of running each sequence alone.
    /// </summary>
    public (Tensor Output, RecurrentState State) Forward(Tensor input, Tensor lengths, RecurrentState? state = null,
        [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0)
    {
        ArgumentNullException.ThrowIfNull(lengths);
        return Forward(new RecurrentInput(input, lengths, state), callerFile, callerLine);
    }

    (Tensor Output, RecurrentState State) IRecurrentModule.Forward(Tensor input, RecurrentState? state) =>
        Forward(new RecurrentInput(input, null, state));

    protected override (Tensor Output, RecurrentState State) ForwardCore(RecurrentInput arguments)
    {
        var (input, lengths, state) = arguments;
        ArgumentNullException.ThrowIfNull(input);
        string name = TypeName;
        string expected = BatchFirst ? $"[batch, time, {InputSize}]" : $"[time, batch, {InputSize}]";
        if (input.Rank is not (2 or 3) || input.Sizes[^1] != InputSize)
            throw new ShapeMismatchException(name, $"input {input.Shape} does not match inputSize {InputSize} (expected {expected} or unbatched [time, {InputSize}])");
        if (!input.DType.IsFloatingPoint())
            throw new ArgumentException($"{name}: needs a floating-point input; got {input.DType.DisplayName()}.");
        bool batched = input.Rank == 3;
        var x = !batched ? input.Unsqueeze(1) : BatchFirst ? input.Transpose(0, 1) : input;
        int steps = x.Size(0), batch = x.Size(1);
        var mask = lengths is null ? null : StepMask(lengths, batched, steps, batch);
        var (hidden0, cell0) = InitialState(state, batched, batch, x);

        var (output, hidden, cell) = RecurrentScan.Run(CellKind, _weights, NumLayers, Bidirectional, x, hidden0, cell0, mask, Dropout,
            IsTraining, StepObserver, batchFirstOutput: batched && BatchFirst);
        var result = batched ? output : output.Squeeze(1);
        if (!batched)
        {
            hidden = hidden.Squeeze(1);
            cell = cell?.Squeeze(1);
        }
        return (result, new RecurrentState(hidden, cell));
    }

    /// <summary>[time, batch, 1] Bool: whether step t lies within sequence b.</summary>
    private Tensor StepMask(Tensor lengths, bool batched, int steps, int batch)
    {
        string name = TypeName;
        if (!batched)
            throw new ArgumentException($"{name}: lengths need batched input [time, batch, features]; got unbatched input.");
        if (lengths.DType != DType.Int64 || lengths.Rank != 1 || lengths.Size(0) != batch)
            throw new ShapeMismatchException(name, $"lengths must be Int64 [batch = {batch}]; got {lengths.DType.DisplayName()} {lengths.Shape}");
        foreach (long length in lengths.ToArray<long>())
            if (length < 0 || length > steps)
                throw new ArgumentOutOfRangeException(nameof(lengths), $"{name}: every length must be in [0, {steps}] (the padded sequence length); got {length}.");
        return RecurrentScan.StepMask(lengths, steps);
    }

    /// <summary>The initial hidden (and cell) state [layers · directions, batch, size], checked, or zeros.</summary>
    private (Tensor Hidden, Tensor? Cell) InitialState(RecurrentState? state, bool batched, int batch, Tensor x)
    {
        int count = NumLayers * NumDirections;
        var dtype = _weights[0].WeightIh.DType;
        var device = _weights[0].WeightIh.Device;
        if (state is null)
            return (Tensor.Zeros([count, batch, OutputSize], dtype, device),
                HasCell ? Tensor.Zeros([count, batch, HiddenSize], dtype, device) : null);
        string name = TypeName;
        Tensor Check(Tensor t, int size, string what)
        {
            int[] want = batched ? [count, batch, size] : [count, size];
            if (!t.Sizes.AsSpan().SequenceEqual(want))
                throw new ShapeMismatchException(name, $"initial {what} {t.Shape} does not match [{string.Join(", ", want)}] (layers · directions{(batched ? ", batch" : "")}, size) for input {Describe(x, batched)}");
            return batched ? t : t.Unsqueeze(1);
        }
        var hidden = Check(state.Hidden, OutputSize, "hidden state");
        Tensor? cell = null;
        if (HasCell)
            cell = Check(state.Cell ?? throw new ArgumentException($"{name}: the initial state needs a cell state (RecurrentState.Cell)."), HiddenSize, "cell state");
        else if (state.Cell is not null)
            throw new ArgumentException($"{name}: has no cell state, but the initial state carries one of shape {state.Cell.Shape}.");
        return (hidden, cell);
    }

    private static string Describe(Tensor x, bool batched) =>
        batched ? $"of {x.Size(0)} steps and batch {x.Size(1)}" : $"of {x.Size(0)} steps, unbatched";

    protected override string ExtraDescription => string.Create(CultureInfo.InvariantCulture,
        $"inputSize: {InputSize}, hiddenSize: {HiddenSize}, numLayers: {NumLayers}, bias: {Bias}, batchFirst: {BatchFirst}, " +
        $"dropout: {Dropout}, bidirectional: {Bidirectional}{(ProjSize > 0 ? $", projSize: {ProjSize}" : "")}");
}
