namespace Backprop;

/// <remarks>
/// The pointwise part of one recurrent time step, forward and backward, one pass each: the matrix products around
/// them (x·W_ihᵀ for all steps, h·W_hhᵀ per step) are ordinary GEMMs the caller runs. Every view is contiguous,
/// rows of one batch element each, of one floating dtype; bias views are [gates·hidden] or null. Gate order is
/// PyTorch's: LSTM i, f, g, o; GRU r, z, n.
/// </remarks>
public partial interface IBackend
{
    /// <summary>
    /// Packs b [K, N] for <see cref="MatMulPacked"/>, or returns null when this backend has no packed path for its
    /// dtype (the caller then uses <see cref="MatMul"/>). A recurrent layer packs W_hh once per sequence instead of
    /// once per time step. <paramref name="leftRows"/> is the row count of the matrices it will multiply (the batch),
    /// by which a backend may choose its tile shape; the products do not depend on it.
    /// </summary>
    PackedOperand? PackMatMulRight(StridedView b, int leftRows);

    /// <summary>c = a·b (or c += a·b) for a [M, K] and b packed by <see cref="PackMatMulRight"/>; c is [M, N].</summary>
    void MatMulPacked(StridedView a, PackedOperand b, StridedView c, bool accumulate);

    /// <summary>
    /// LSTM step. gates [B, 4H] holds h·W_hhᵀ; the pre-activations are input + gates + bias, where input [B, 4H] is
    /// the step's x·W_ihᵀ + b_ih (already in gates when null) and bias is b_hh. gates is overwritten with the activated gates (σ(i), σ(f), tanh(g), σ(o)), which the backward reads. From the previous
    /// cell c [B, H] it writes c' = f·c + i·g into cellOut, tanh(c') into tanhCellOut (for the backward, which
    /// would otherwise compute it again) and h' = o·tanh(c') into hiddenOut.
    /// </summary>
    void LstmCellForward(StridedView gates, StridedView? input, StridedView? bias, StridedView cell, StridedView hiddenOut, StridedView cellOut,
        StridedView tanhCellOut);

    /// <summary>
    /// The LSTM step's backward from the activated gates, the previous cell c, the forward's tanh(c') and the gradients
    /// ∂h' and ∂c' (each [B, H]): writes the gradient of the pre-activations [B, 4H] and ∂c [B, H].
    /// </summary>
    void LstmCellBackward(StridedView gates, StridedView cell, StridedView tanhCellOut, StridedView gradHiddenOut, StridedView gradCellOut,
        StridedView gradGates, StridedView gradCell);

    /// <summary>
    /// GRU step from the input part x·W_ihᵀ + b_ih [B, 3H] and the hidden part h·W_hhᵀ [B, 3H] (bias b_hh added here):
    /// r, z = σ(…), n = tanh(x_n + r·(h_n + b_hn)), h' = n + z·(h − n) into output [B, H]. workspace [B, 4H] receives
    /// r, z, n and h_n + b_hn for the backward.
    /// </summary>
    void GruCellForward(StridedView inputGates, StridedView hiddenGates, StridedView? bias, StridedView hidden, StridedView output,
        StridedView workspace);

    /// <summary>
    /// The GRU step's backward from its workspace, the previous hidden state and ∂h' [B, H]: the gradients of the
    /// input part [B, 3H] and of the hidden part [B, 3H] (they differ in the n gate, which r scales), and the direct
    /// part of ∂h, z·∂h' [B, H] (the caller adds the hidden part times W_hh).
    /// </summary>
    void GruCellBackward(StridedView workspace, StridedView hidden, StridedView gradOutput, StridedView gradInputGates,
        StridedView gradHiddenGates, StridedView gradHidden);

    /// <summary>
    /// Elman step: preactivation [B, H] holds h·W_hhᵀ and becomes h' = tanh(input + h·W_hhᵀ + bias) (or relu) in place, where
    /// input is the step's x·W_ihᵀ + b_ih (already in preactivation when null) and bias is b_hh.
    /// </summary>
    void RnnCellForward(StridedView preactivation, StridedView? input, StridedView? bias, bool relu);

    /// <summary>The Elman step's backward: ∂pre = ∂h'·(1 − h'²) for tanh, ∂h'·[h' &gt; 0] for relu, from the step's output h'.</summary>
    void RnnCellBackward(StridedView output, StridedView gradOutput, StridedView gradPreactivation, bool relu);
}
