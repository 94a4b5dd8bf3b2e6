namespace Backprop.Nn;

/// <summary>
/// A module backward hook (see <see cref="Module{TInput, TOutput}.RegisterFullBackwardHook(FullBackwardHook)"/>).
/// </summary>
/// <param name="gradInputs">∂L/∂ each tensor input of the forward call, null where an input needs no gradient or got none.</param>
/// <param name="gradOutputs">∂L/∂ each tensor output, null where an output got no gradient.</param>
/// <returns>Null to keep <paramref name="gradInputs"/>, or replacements (one per input, of each input's shape).</returns>
public delegate IReadOnlyList<Tensor?>? FullBackwardHook(Module module, IReadOnlyList<Tensor?> gradInputs, IReadOnlyList<Tensor?> gradOutputs);
