namespace Backprop.Optim;

/// <summary>What an optimizer keeps per parameter: a step count and named buffers (Adam's running means, SGD's momentum).</summary>
public sealed class ParameterState
{
    private readonly Tensor?[] _buffers;

    internal ParameterState(int slots) => _buffers = new Tensor?[slots];

    /// <summary>How many updates this parameter has had.</summary>
    public long Step { get; set; }

    /// <summary>The buffer in slot <paramref name="slot"/> (see the optimizer's <c>StateNames</c>), null until created.</summary>
    public Tensor? this[int slot]
    {
        get => _buffers[slot];
        set => _buffers[slot] = value;
    }

    internal int Slots => _buffers.Length;

    internal ReadOnlySpan<Tensor?> Buffers => _buffers;
}
