namespace Backprop.Nn;

/// <summary>Any module that maps a sequence and an optional initial state to (output, final state).</summary>
public interface IRecurrentModule
{
    (Tensor Output, RecurrentState State) Forward(Tensor input, RecurrentState? state = null);
}
