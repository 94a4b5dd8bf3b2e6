using System.Runtime.CompilerServices;

namespace Backprop.Nn;

/// <summary>The parameters and checks every cell shares: PyTorch's names weight_ih, weight_hh, bias_ih, bias_hh.</summary>
internal sealed class CellParameters
{
    public CellParameters(Module owner, string name, int gates, int inputSize, int hiddenSize, bool bias, DType dtype, Generator? generator, Device? device)
    {
        if (inputSize <= 0 || hiddenSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(hiddenSize), $"{name}: inputSize and hiddenSize must be positive; got {inputSize} and {hiddenSize}.");
        Name = name;
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        double bound = 1 / Math.Sqrt(hiddenSize);
        Parameter Make(string parameterName, params int[] shape)
        {
            var p = new Parameter(Tensor.Empty(shape, dtype, device));
            Init.Uniform(p, -bound, bound, generator);
            owner.RegisterParameter(parameterName, p);
            return p;
        }
        WeightIh = Make("weight_ih", gates * hiddenSize, inputSize);
        WeightHh = Make("weight_hh", gates * hiddenSize, hiddenSize);
        BiasIh = bias ? Make("bias_ih", gates * hiddenSize) : null;
        BiasHh = bias ? Make("bias_hh", gates * hiddenSize) : null;
    }

    public string Name { get; }

    public int InputSize { get; }

    public int HiddenSize { get; }

    public Parameter WeightIh { get; }

    public Parameter WeightHh { get; }

    public Parameter? BiasIh { get; }

    public Parameter? BiasHh { get; }

    /// <summary>Checks input [batch, inputSize] or unbatched [inputSize]; returns it batched and whether it was.</summary>
    public (Tensor Input, bool Batched) CheckInput(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank is not (1 or 2) || input.Sizes[^1] != InputSize)
            throw new ShapeMismatchException(Name, $"input {input.Shape} does not match inputSize {InputSize} (expected [batch, {InputSize}] or [{InputSize}])");
        return input.Rank == 2 ? (input, true) : (input.Unsqueeze(0), false);
    }

    /// <summary>A state tensor [batch, hiddenSize] (or [hiddenSize] unbatched) checked against the input, or zeros.</summary>
    public Tensor State(Tensor? state, Tensor input, bool batched, string what)
    {
        if (state is null) return Tensor.Zeros([input.Size(0), HiddenSize], WeightHh.DType, WeightHh.Device);
        int[] want = batched ? [input.Size(0), HiddenSize] : [HiddenSize];
        if (!state.Sizes.AsSpan().SequenceEqual(want))
            throw new ShapeMismatchException(Name, $"{what} {state.Shape} does not match [{string.Join(", ", want)}] for input {(batched ? input.Shape : input.Squeeze(0).Shape)}");
        return batched ? state : state.Unsqueeze(0);
    }

    /// <summary>One fused step from x [batch, in] and (h, c).</summary>
    public (Tensor H, Tensor? C) Step(Ops.RecurrentCellKind kind, Tensor input, Tensor h, Tensor? c) =>
        RecurrentScan.Cell(kind, input, h, c, WeightIh, WeightHh, BiasIh, BiasHh);

    public static Tensor Unbatch(Tensor t, bool batched) => batched ? t : t.Squeeze(0);
}

/// <summary>One step of an Elman RNN, as <c>torch.nn.RNNCell</c>: h' = act(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh).</summary>
public sealed class RnnCell : Module<(Tensor Input, Tensor? Hidden), Tensor>
{
    private readonly CellParameters _parameters;

    public RnnCell(int inputSize, int hiddenSize, bool bias = true, RnnNonlinearity nonlinearity = RnnNonlinearity.Tanh,
        DType dtype = DType.Float32, Generator? generator = null, Device? device = null)
    {
        _parameters = new CellParameters(this, TypeName, 1, inputSize, hiddenSize, bias, dtype, generator, device);
        Nonlinearity = nonlinearity;
    }

    public int InputSize => _parameters.InputSize;

    public int HiddenSize => _parameters.HiddenSize;

    public RnnNonlinearity Nonlinearity { get; }

    /// <summary>The next hidden state [batch, hiddenSize] from input [batch, inputSize] and h (zeros when null).</summary>
    public Tensor Forward(Tensor input, Tensor? hidden = null, [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0) =>
        Forward((input, hidden), callerFile, callerLine);

    protected override Tensor ForwardCore((Tensor Input, Tensor? Hidden) arguments)
    {
        var p = _parameters;
        var (x, batched) = p.CheckInput(arguments.Input);
        var h = p.State(arguments.Hidden, x, batched, "hidden state");
        var kind = Nonlinearity == RnnNonlinearity.Tanh ? Ops.RecurrentCellKind.RnnTanh : Ops.RecurrentCellKind.RnnRelu;
        return CellParameters.Unbatch(p.Step(kind, x, h, null).H, batched);
    }

    protected override string ExtraDescription => $"inputSize: {InputSize}, hiddenSize: {HiddenSize}, nonlinearity: {Nonlinearity}";
}

/// <summary>One LSTM step, as <c>torch.nn.LSTMCell</c> (gates i, f, g, o).</summary>
public sealed class LstmCell : Module<(Tensor Input, (Tensor H, Tensor C)? State), (Tensor H, Tensor C)>
{
    private readonly CellParameters _parameters;

    public LstmCell(int inputSize, int hiddenSize, bool bias = true, DType dtype = DType.Float32, Generator? generator = null, Device? device = null) =>
        _parameters = new CellParameters(this, TypeName, 4, inputSize, hiddenSize, bias, dtype, generator, device);

    public int InputSize => _parameters.InputSize;

    public int HiddenSize => _parameters.HiddenSize;

    /// <summary>The next (h, c), each [batch, hiddenSize], from input [batch, inputSize] and (h, c) (zeros when null).</summary>
    public (Tensor H, Tensor C) Forward(Tensor input, (Tensor H, Tensor C)? state = null,
        [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0) =>
        Forward((input, state), callerFile, callerLine);

    protected override (Tensor H, Tensor C) ForwardCore((Tensor Input, (Tensor H, Tensor C)? State) arguments)
    {
        var p = _parameters;
        var (x, batched) = p.CheckInput(arguments.Input);
        var h = p.State(arguments.State?.H, x, batched, "hidden state");
        var c = p.State(arguments.State?.C, x, batched, "cell state");
        var (hNext, cNext) = p.Step(Ops.RecurrentCellKind.Lstm, x, h, c);
        return (CellParameters.Unbatch(hNext, batched), CellParameters.Unbatch(cNext!, batched));
    }

    protected override string ExtraDescription => $"inputSize: {InputSize}, hiddenSize: {HiddenSize}";
}

/// <summary>One GRU step, as <c>torch.nn.GRUCell</c> (gates r, z, n).</summary>
public sealed class GruCell : Module<(Tensor Input, Tensor? Hidden), Tensor>
{
    private readonly CellParameters _parameters;

    public GruCell(int inputSize, int hiddenSize, bool bias = true, DType dtype = DType.Float32, Generator? generator = null, Device? device = null) =>
        _parameters = new CellParameters(this, TypeName, 3, inputSize, hiddenSize, bias, dtype, generator, device);

    public int InputSize => _parameters.InputSize;

    public int HiddenSize => _parameters.HiddenSize;

    /// <summary>The next hidden state [batch, hiddenSize] from input [batch, inputSize] and h (zeros when null).</summary>
    public Tensor Forward(Tensor input, Tensor? hidden = null, [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0) =>
        Forward((input, hidden), callerFile, callerLine);

    protected override Tensor ForwardCore((Tensor Input, Tensor? Hidden) arguments)
    {
        var p = _parameters;
        var (x, batched) = p.CheckInput(arguments.Input);
        var h = p.State(arguments.Hidden, x, batched, "hidden state");
        return CellParameters.Unbatch(p.Step(Ops.RecurrentCellKind.Gru, x, h, null).H, batched);
    }

    protected override string ExtraDescription => $"inputSize: {InputSize}, hiddenSize: {HiddenSize}";
}
