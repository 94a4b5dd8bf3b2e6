using Backprop.Nn;

namespace Backprop.Tests.Nn;

/// <summary>
/// The recurrent layers written again from primitive ops (matmul, sigmoid, tanh, relu, arithmetic), one batch row
/// mask at a time: the oracle the library's layers and fused ops are checked against. Weights come from the layer's
/// state dict, so the names and gate order are checked too.
/// </summary>
public static class RecurrentReference
{
    public enum Kind { RnnTanh, RnnRelu, Lstm, Gru }

    /// <summary>
    /// Runs the whole stack over x [time, batch, in] from (h0, c0) [layers·dirs, batch, size]. lengths: each row's
    /// true length (null: all full). observed: receives the last layer's forward h_t (after masking) per step.
    /// </summary>
    internal static (Tensor Output, Tensor H, Tensor? C) Run(Kind kind, IReadOnlyDictionary<string, Tensor> p, int layers, bool bidirectional,
        Tensor x, Tensor h0, Tensor? c0, long[]? lengths = null, Tensor[]? observed = null)
    {
        int dirs = bidirectional ? 2 : 1;
        var hs = new List<Tensor>();
        var cs = new List<Tensor>();
        var input = x;
        for (int l = 0; l < layers; l++)
        {
            var outs = new List<Tensor>();
            for (int d = 0; d < dirs; d++)
            {
                string s = $"_l{l}{(d == 1 ? "_reverse" : "")}";
                var (o, h, c) = Direction(kind, input, p["weight_ih" + s], p["weight_hh" + s], p.GetValueOrDefault("bias_ih" + s),
                    p.GetValueOrDefault("bias_hh" + s), p.GetValueOrDefault("weight_hr" + s), h0.Select(0, l * dirs + d),
                    c0?.Select(0, l * dirs + d), d == 1, lengths, l == layers - 1 && d == 0 ? observed : null);
                outs.Add(o);
                hs.Add(h);
                if (c is not null) cs.Add(c);
            }
            input = dirs == 1 ? outs[0] : Tensor.Cat(outs, -1);
        }
        return (input, Tensor.Stack(hs), cs.Count > 0 ? Tensor.Stack(cs) : null);
    }

    internal static (Tensor Output, Tensor H, Tensor? C) Direction(Kind kind, Tensor x, Tensor wih, Tensor whh, Tensor? bih, Tensor? bhh, Tensor? whr,
        Tensor h, Tensor? c, bool reverse, long[]? lengths, Tensor[]? observed)
    {
        int steps = x.Size(0), batch = x.Size(1);
        var outputs = new Tensor[steps];
        for (int s = 0; s < steps; s++)
        {
            int t = reverse ? steps - 1 - s : s;
            var (hn, cn) = Cell(kind, x.Select(0, t), h, c, wih, whh, bih, bhh, whr);
            if (lengths is not null)
            {
                var live = Tensor.FromArray(lengths.Select(n => t < n ? 1.0 : 0.0).ToArray(), batch, 1).To(x.DType);
                hn = live * hn + (1.0 - live) * h;
                if (cn is not null) cn = live * cn + (1.0 - live) * c!;
                outputs[t] = live * hn;
            }
            else outputs[t] = hn;
            h = hn;
            c = cn;
            if (observed is not null)
            {
                h.RetainGrad();
                observed[t] = h;
            }
        }
        return (Tensor.Stack(outputs), h, c);
    }

    internal static (Tensor H, Tensor? C) Cell(Kind kind, Tensor x, Tensor h, Tensor? c, Tensor wih, Tensor whh, Tensor? bih, Tensor? bhh, Tensor? whr)
    {
        Tensor Affine(Tensor v, Tensor w, Tensor? b) => b is null ? v.MatMul(w.T) : v.MatMul(w.T) + b;
        var gx = Affine(x, wih, bih);
        var gh = Affine(h, whh, bhh);
        int n = whh.Size(0);
        switch (kind)
        {
            case Kind.RnnTanh: return ((gx + gh).Tanh(), null);
            case Kind.RnnRelu: return ((gx + gh).Relu(), null);
            case Kind.Lstm:
            {
                int hidden = n / 4;
                var g = gx + gh;
                var i = g.Narrow(1, 0, hidden).Sigmoid();
                var f = g.Narrow(1, hidden, hidden).Sigmoid();
                var cand = g.Narrow(1, 2 * hidden, hidden).Tanh();
                var o = g.Narrow(1, 3 * hidden, hidden).Sigmoid();
                var cn = f * c! + i * cand;
                var hn = o * cn.Tanh();
                if (whr is not null) hn = hn.MatMul(whr.T);
                return (hn, cn);
            }
            default:
            {
                int hidden = n / 3;
                var r = (gx.Narrow(1, 0, hidden) + gh.Narrow(1, 0, hidden)).Sigmoid();
                var z = (gx.Narrow(1, hidden, hidden) + gh.Narrow(1, hidden, hidden)).Sigmoid();
                var cand = (gx.Narrow(1, 2 * hidden, hidden) + r * gh.Narrow(1, 2 * hidden, hidden)).Tanh();
                return ((1.0 - z) * cand + z * h, null);
            }
        }
    }

    /// <summary>The layer's parameters by state-dict name (the tensors themselves, so gradients reach them).</summary>
    internal static Dictionary<string, Tensor> Parameters(Module module) =>
        module.NamedParameters().ToDictionary(p => p.Name, p => (Tensor)p.Parameter);

    internal static void AssertClose(Tensor expected, Tensor actual, double tolerance, string what)
    {
        Assert.True(expected.Shape == actual.Shape, $"{what}: shape {actual.Shape}, expected {expected.Shape}");
        var e = expected.To(DType.Float64).ToArray<double>();
        var a = actual.To(DType.Float64).ToArray<double>();
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= tolerance * Math.Max(1, Math.Abs(e[i])), $"{what}[{i}]: {a[i]}, expected {e[i]}");
    }
}

internal static class LeafExtensions
{
    /// <summary>Marks the tensor as a leaf that requires grad and returns it.</summary>
    public static Tensor AsLeaf(this Tensor t)
    {
        t.RequiresGrad = true;
        return t;
    }
}
