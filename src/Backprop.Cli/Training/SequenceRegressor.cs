using Backprop.Nn;

namespace Backprop.Cli.Training;

/// <summary>The recurrent layers <c>backprop train adding</c> and <c>backprop diagnose through-time</c> compare.</summary>
public enum RecurrentKind
{
    Lstm,
    Rnn,
    Gru,
}

/// <summary>
/// A one-layer recurrent network (batch-first) that reads a whole sequence and predicts one number from its last hidden
/// state through a linear head: the model of the adding problem.
/// </summary>
public sealed class SequenceRegressor : Module<Tensor, Tensor>
{
    /// <param name="forgetBias">For an LSTM: when set, its forget gates start with this total bias (b_ih's forget slice
    /// set to it, b_hh's to 0) instead of PyTorch's uniform draw. A positive value (Gers et al. 2000; Keras's
    /// unit_forget_bias uses 1) starts the cell remembering, f = σ(1) ≈ 0.73, rather than halving it every step.</param>
    public SequenceRegressor(RecurrentKind kind, int inputSize, int hiddenSize, Generator generator, double? forgetBias = null)
    {
        Kind = kind;
        Recurrent = kind switch
        {
            RecurrentKind.Lstm => new Lstm(inputSize, hiddenSize, batchFirst: true, generator: generator),
            RecurrentKind.Gru => new Gru(inputSize, hiddenSize, batchFirst: true, generator: generator),
            _ => new Rnn(inputSize, hiddenSize, batchFirst: true, generator: generator),
        };
        Head = new Linear(hiddenSize, 1, generator: generator);
        if (kind == RecurrentKind.Lstm && forgetBias is { } value)
        {
            var biases = Recurrent.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
            using (Autograd.NoGrad())
            {
                // Gates are laid out i, f, g, o: the forget gate's units are the second quarter.
                biases["bias_ih_l0"].Narrow(0, hiddenSize, hiddenSize).FillInPlace(value);
                biases["bias_hh_l0"].Narrow(0, hiddenSize, hiddenSize).FillInPlace(0);
            }
        }
    }

    public RecurrentKind Kind { get; }

    public RecurrentLayer Recurrent { get; }

    public Linear Head { get; }

    public static IReadOnlyDictionary<string, RecurrentKind> Kinds { get; } = new Dictionary<string, RecurrentKind>
    {
        ["lstm"] = RecurrentKind.Lstm,
        ["rnn"] = RecurrentKind.Rnn,
        ["gru"] = RecurrentKind.Gru,
    };

    public static string NameOf(RecurrentKind kind) => kind.ToString().ToLowerInvariant();

    /// <summary>[batch, time, inputSize] → [batch, 1], from the hidden state after the last step.</summary>
    protected override Tensor ForwardCore(Tensor input)
    {
        var (output, _) = Recurrent.Forward(input);
        return Head.Forward(output.Select(1, output.Size(1) - 1));
    }
}
