namespace Backprop.Nn;

/// <summary>
/// One time step of each cell, from the projected input x·W_ihᵀ + b_ih: shared by the cells and the layers.
/// Gate order is PyTorch's (LSTM i, f, g, o; GRU r, z, n), so weights load unchanged.
/// </summary>
internal static class RecurrentCellMath
{
    /// <summary>h' = act(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh).</summary>
    public static Tensor Rnn(Tensor projectedInput, Tensor h, Tensor weightHh, Tensor? biasHh, RnnNonlinearity nonlinearity)
    {
        var pre = projectedInput + Functional.Linear(h, weightHh, biasHh);
        return nonlinearity == RnnNonlinearity.Tanh ? pre.Tanh() : pre.Relu();
    }

    /// <summary>c' = f∘c + i∘g, h' = o∘tanh(c') (then h'·W_hrᵀ with a projection).</summary>
    public static (Tensor H, Tensor C) Lstm(Tensor projectedInput, Tensor h, Tensor c, Tensor weightHh, Tensor? biasHh, Tensor? weightHr)
    {
        var gates = (projectedInput + Functional.Linear(h, weightHh, biasHh)).Chunk(4, -1);
        var (i, f, g, o) = (gates[0].Sigmoid(), gates[1].Sigmoid(), gates[2].Tanh(), gates[3].Sigmoid());
        var cNext = f * c + i * g;
        var hNext = o * cNext.Tanh();
        if (weightHr is not null) hNext = Functional.Linear(hNext, weightHr);
        return (hNext, cNext);
    }

    /// <summary>r, z = σ(…), n = tanh(x_n + b_in + r∘(h·W_hnᵀ + b_hn)), h' = (1 − z)∘n + z∘h.</summary>
    public static Tensor Gru(Tensor projectedInput, Tensor h, Tensor weightHh, Tensor? biasHh)
    {
        var x = projectedInput.Chunk(3, -1);
        var r = Functional.Linear(h, weightHh, biasHh).Chunk(3, -1);
        var reset = (x[0] + r[0]).Sigmoid();
        var update = (x[1] + r[1]).Sigmoid();
        var candidate = (x[2] + reset * r[2]).Tanh();
        return candidate + update * (h - candidate);
    }
}
