using Backprop.Nn;
using Backprop.Ops;

namespace Backprop.Tests.Ops;

/// <summary>
/// The fused recurrent steps at saturation: gates driven to 0 or 1 by infinite biases pass the state through
/// exactly and have zero gradient (σ′ and tanh′ taken from the saturated outputs, as PyTorch's sigmoid_backward and
/// tanh_backward do), and a zero-length sequence leaves the initial state untouched.
/// </summary>
public partial class EdgeValueTests
{
    /// <summary>One step of a one-unit cell with zero weights, input and h, so the gates are the biases b_ih.</summary>
    private static (Tensor H, Tensor? C) SaturatedStep(RecurrentCellKind kind, Tensor biasIh, Tensor? h = null, Tensor? c = null)
    {
        int gates = biasIh.Size(0), hidden = kind is RecurrentCellKind.RnnTanh or RecurrentCellKind.RnnRelu ? gates : 1;
        var dtype = biasIh.DType;
        return RecurrentScan.Cell(kind, Tensor.Zeros([1, 1], dtype), h ?? Tensor.Zeros([1, hidden], dtype), c, Tensor.Zeros([gates, 1], dtype),
            Tensor.Zeros([gates, hidden], dtype), biasIh, null);
    }

    private static IEnumerable<EdgeRow> RecurrentRows =>
    [
        // i = σ(−∞) = 0, f = σ(∞) = 1, o = σ(∞) = 1: c' = c exactly, h' = tanh(c); ∂c = 1 + (1 − tanh²(0.5)).
        new(typeof(LstmStepOp), "saturated gates pass the cell through", x =>
        {
            var (h, c) = SaturatedStep(RecurrentCellKind.Lstm, x[1], c: x[0].Reshape(1, 1));
            return Tensor.Cat([h.Flatten(), c!.Flatten()]);
        }, [V(0.5), V(-Inf, Inf, 0, Inf)], V(Math.Tanh(0.5), 0.5), [V(2 - Math.Pow(Math.Tanh(0.5), 2)), V(0, 0, 0, 0)]),
        // z = σ(∞) = 1 keeps h exactly; the saturated gate passes no gradient to its bias.
        new(typeof(GruStepOp), "saturated update gate keeps h", x => SaturatedStep(RecurrentCellKind.Gru, x[1], h: x[0].Reshape(1, 1)).H.Flatten(),
            [V(0.5), V(0, Inf, 0)], V(0.5), [V(1), V(0, 0, 0)]),
        new(typeof(RnnStepOp), "tanh saturates at infinities", x => SaturatedStep(RecurrentCellKind.RnnTanh, x[0]).H.Flatten(),
            [V(Inf, -Inf)], V(1, -1), [V(0, 0)]),
        // ReLU's gradient at 0 is 0, as PyTorch's threshold_backward.
        new(typeof(RnnStepOp), "relu at zero", x => SaturatedStep(RecurrentCellKind.RnnRelu, x[0]).H.Flatten(), [V(0, 2)], V(0, 2), [V(0, 1)]),
        // A sequence of length 0: zero outputs, the initial state as the final state, and no gradient for W_hh.
        new(typeof(RecurrentInputsOp), "zero-length sequence", x =>
        {
            var dtype = x[0].DType;
            var weights = new RecurrentWeights(Tensor.Ones([1, 1], dtype), x[1], null, null, null);
            var mask = RecurrentScan.StepMask(Tensor.FromArray(new long[] { 0 }, 1), 2);
            var (output, h, _) = RecurrentScan.Run(RecurrentCellKind.RnnTanh, [weights], 1, false, Tensor.Ones([2, 1, 1], dtype), x[0], null, mask);
            return Tensor.Cat([output.Flatten(), h.Flatten()]);
        }, [T([1, 1, 1], 0.25), T([1, 1], 2)], V(0, 0, 0.25), [T([1, 1, 1], 1), T([1, 1], 0)]),
    ];
}
