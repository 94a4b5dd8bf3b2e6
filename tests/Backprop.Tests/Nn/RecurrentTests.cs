using Backprop.Nn;
using static Backprop.Tests.Nn.RecurrentReference;

namespace Backprop.Tests.Nn;

public class RecurrentTests
{
    private static RecurrentLayer Make(Kind kind, int input, int hidden, int layers = 1, bool bidirectional = false, bool batchFirst = false,
        int projSize = 0, bool bias = true, ulong seed = 1) => kind switch
    {
        Kind.RnnTanh => new Rnn(input, hidden, layers, RnnNonlinearity.Tanh, bias, batchFirst, 0, bidirectional, DType.Float64, new Generator(seed)),
        Kind.RnnRelu => new Rnn(input, hidden, layers, RnnNonlinearity.Relu, bias, batchFirst, 0, bidirectional, DType.Float64, new Generator(seed)),
        Kind.Lstm => new Lstm(input, hidden, layers, bias, batchFirst, 0, bidirectional, projSize, DType.Float64, new Generator(seed)),
        _ => new Gru(input, hidden, layers, bias, batchFirst, 0, bidirectional, DType.Float64, new Generator(seed)),
    };

    private static Tensor Randn(ulong seed, params int[] shape) => Tensor.Randn(new Shape(shape), DType.Float64, new Generator(seed));

    [Fact]
    public void Lstm_parameter_names_and_shapes_are_pytorchs()
    {
        var lstm = new Lstm(10, 20, numLayers: 2, bidirectional: true, projSize: 5);
        var names = lstm.NamedParameters().Select(p => $"{p.Name} {p.Parameter.Shape}").ToArray();
        string[] expected =
        [
            "weight_ih_l0 [80, 10]", "weight_hh_l0 [80, 5]", "bias_ih_l0 [80]", "bias_hh_l0 [80]", "weight_hr_l0 [5, 20]",
            "weight_ih_l0_reverse [80, 10]", "weight_hh_l0_reverse [80, 5]", "bias_ih_l0_reverse [80]", "bias_hh_l0_reverse [80]", "weight_hr_l0_reverse [5, 20]",
            "weight_ih_l1 [80, 10]", "weight_hh_l1 [80, 5]", "bias_ih_l1 [80]", "bias_hh_l1 [80]", "weight_hr_l1 [5, 20]",
            "weight_ih_l1_reverse [80, 10]", "weight_hh_l1_reverse [80, 5]", "bias_ih_l1_reverse [80]", "bias_hh_l1_reverse [80]", "weight_hr_l1_reverse [5, 20]",
        ];
        Assert.Equal(expected, names);
    }

    [Fact]
    public void Gru_and_rnn_names_and_cells_follow_pytorch()
    {
        Assert.Equal(["weight_ih_l0 [24, 3]", "weight_hh_l0 [24, 8]", "weight_ih_l1 [24, 8]", "weight_hh_l1 [24, 8]"],
            new Gru(3, 8, numLayers: 2, bias: false).NamedParameters().Select(p => $"{p.Name} {p.Parameter.Shape}"));
        Assert.Equal(["weight_ih_l0 [8, 3]", "weight_hh_l0 [8, 8]", "bias_ih_l0 [8]", "bias_hh_l0 [8]"],
            new Rnn(3, 8).NamedParameters().Select(p => $"{p.Name} {p.Parameter.Shape}"));
        Assert.Equal(["weight_ih [16, 3]", "weight_hh [16, 4]", "bias_ih [16]", "bias_hh [16]"],
            new LstmCell(3, 4).NamedParameters().Select(p => $"{p.Name} {p.Parameter.Shape}"));
        Assert.Equal(["weight_ih [12, 3]", "weight_hh [12, 4]"], new GruCell(3, 4, bias: false).NamedParameters().Select(p => $"{p.Name} {p.Parameter.Shape}"));
    }

    [Fact]
    public void Default_init_is_uniform_within_one_over_root_hidden()
    {
        var lstm = new Lstm(30, 64, generator: new Generator(5));
        double bound = 1 / Math.Sqrt(64);
        foreach (var (name, p) in lstm.NamedParameters())
        {
            var values = p.ToArray<float>();
            Assert.All(values, v => Assert.InRange(v, -bound, bound));
            Assert.True(values.Max() > 0.9 * bound && values.Min() < -0.9 * bound, $"{name} does not fill (−{bound}, {bound})");
        }
    }

    public static TheoryData<Kind, int, bool, bool, int> Configurations => new()
    {
        { Kind.RnnTanh, 1, false, false, 0 },
        { Kind.RnnRelu, 2, true, false, 0 },
        { Kind.Lstm, 1, false, false, 0 },
        { Kind.Lstm, 2, true, true, 0 },
        { Kind.Lstm, 2, true, false, 2 },
        { Kind.Gru, 1, false, true, 0 },
        { Kind.Gru, 2, true, false, 0 },
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Layers_match_a_float64_reference_built_from_primitive_ops(Kind kind, int layers, bool bidirectional, bool batchFirst, int projSize)
    {
        var layer = Make(kind, 3, 4, layers, bidirectional, batchFirst, projSize);
        int dirs = bidirectional ? 2 : 1, outSize = projSize > 0 ? projSize : 4;
        var x = Randn(2, 5, 2, 3).AsLeaf();
        var h0 = Randn(3, layers * dirs, 2, outSize);
        Tensor? c0 = kind == Kind.Lstm ? Randn(4, layers * dirs, 2, 4) : null;
        var (output, state) = layer.Forward(batchFirst ? x.Transpose(0, 1) : x, new RecurrentState(h0, c0));
        if (batchFirst) output = output.Transpose(0, 1);
        var p = Parameters(layer);
        var (refOutput, refH, refC) = Run(kind, p, layers, bidirectional, x, h0, c0);
        AssertClose(refOutput, output, 1e-12, "output");
        AssertClose(refH, state.Hidden, 1e-12, "final hidden state");
        if (refC is not null) AssertClose(refC, state.Cell!, 1e-12, "final cell state");

        // Gradients: the same loss through both, with respect to the input and every parameter.
        var weights = Randn(9, refOutput.Sizes);
        var ours = Autograd.Grad([(output * weights).Sum() + state.Hidden.Sum()], [x, .. p.Values]);
        var theirs = Autograd.Grad([(refOutput * weights).Sum() + refH.Sum()], [x, .. p.Values]);
        for (int i = 0; i < ours.Length; i++) AssertClose(theirs[i]!, ours[i]!, 1e-11, i == 0 ? "∂L/∂x" : $"∂L/∂{p.Keys.ElementAt(i - 1)}");
    }

    [Theory]
    [InlineData(Kind.Lstm, true)]
    [InlineData(Kind.Gru, true)]
    [InlineData(Kind.RnnTanh, false)]
    public void Variable_lengths_give_each_sequence_the_outputs_and_gradients_it_has_alone(Kind kind, bool bidirectional)
    {
        var layer = Make(kind, 3, 4, layers: 2, bidirectional: bidirectional, batchFirst: true);
        long[] lengths = [5, 2, 4, 1];
        var x = Randn(6, 4, 5, 3).AsLeaf();
        var (output, state) = layer.Forward(x, Tensor.FromArray(lengths, 4));
        var p = Parameters(layer);
        var weights = Randn(7, output.Sizes);
        var loss = (output * weights).Sum() + state.Hidden.Square().Sum() + (state.Cell?.Sum() ?? Tensor.Scalar(0.0, DType.Float64));
        var batchGrads = Autograd.Grad([loss], [x, .. p.Values]);

        var aloneGrads = new Tensor?[batchGrads.Length];
        var gx = Tensor.Zeros(x.Shape, DType.Float64);
        for (int b = 0; b < lengths.Length; b++)
        {
            int n = (int)lengths[b];
            var xb = x.Detach().Narrow(0, b, 1).Narrow(1, 0, n).Clone().AsLeaf();
            var (ob, sb) = layer.Forward(xb);
            AssertClose(ob, output.Narrow(0, b, 1).Narrow(1, 0, n), 1e-12, $"output of sequence {b}");
            Assert.True(output.Narrow(0, b, 1).Narrow(1, n, 5 - n).Abs().Sum().Item() == 0, $"outputs past the end of sequence {b} are not zero");
            AssertClose(sb.Hidden, state.Hidden.Narrow(1, b, 1), 1e-12, $"final hidden state of sequence {b}");
            var lb = (ob * weights.Narrow(0, b, 1).Narrow(1, 0, n)).Sum() + sb.Hidden.Square().Sum() + (sb.Cell?.Sum() ?? Tensor.Scalar(0.0, DType.Float64));
            var grads = Autograd.Grad([lb], [xb, .. p.Values]);
            using (Autograd.NoGrad()) gx.Narrow(0, b, 1).Narrow(1, 0, n).CopyFrom(grads[0]!);
            for (int i = 1; i < grads.Length; i++) aloneGrads[i] = aloneGrads[i] is null ? grads[i] : aloneGrads[i]! + grads[i]!;
        }
        AssertClose(gx, batchGrads[0]!, 1e-11, "∂L/∂x");
        for (int i = 1; i < batchGrads.Length; i++) AssertClose(aloneGrads[i]!, batchGrads[i]!, 1e-11, $"∂L/∂{p.Keys.ElementAt(i - 1)}");
    }

    [Fact]
    public void Variable_lengths_match_the_reference_with_masks()
    {
        var layer = Make(Kind.Lstm, 2, 3, layers: 1, bidirectional: true);
        long[] lengths = [3, 1, 0];
        var x = Randn(1, 3, 3, 2);
        var (output, state) = layer.Forward(x, Tensor.FromArray(lengths, 3));
        var (refOutput, refH, refC) = Run(Kind.Lstm, Parameters(layer), 1, true, x, Tensor.Zeros([2, 3, 3], DType.Float64),
            Tensor.Zeros([2, 3, 3], DType.Float64), lengths);
        AssertClose(refOutput, output, 1e-12, "output");
        AssertClose(refH, state.Hidden, 1e-12, "hidden");
        AssertClose(refC!, state.Cell!, 1e-12, "cell");
    }

    [Fact]
    public void Unbatched_input_gives_the_batch_of_one_results_without_the_batch_dimension()
    {
        var layer = Make(Kind.Gru, 3, 4, layers: 2, bidirectional: true);
        var x = Randn(1, 5, 3);
        var (output, state) = layer.Forward(x);
        var (batchedOutput, batchedState) = layer.Forward(x.Unsqueeze(1));
        Assert.Equal([5, 8], output.Sizes);
        Assert.Equal([4, 4], state.Hidden.Sizes);
        AssertClose(batchedOutput.Squeeze(1), output, 0, "output");
        AssertClose(batchedState.Hidden.Squeeze(1), state.Hidden, 0, "hidden");
        var (again, _) = layer.Forward(x, state);
        var (batchedAgain, _) = layer.Forward(x.Unsqueeze(1), batchedState);
        AssertClose(batchedAgain.Squeeze(1), again, 0, "output from a given state");
    }

    [Fact]
    public void Cells_match_the_reference_step()
    {
        var x = Randn(1, 2, 3);
        var h = Randn(2, 2, 4);
        var c = Randn(3, 2, 4);
        var lstm = new LstmCell(3, 4, dtype: DType.Float64);
        var p = Parameters(lstm);
        var (hn, cn) = lstm.Forward(x, (h, c));
        var (rh, rc) = Cell(Kind.Lstm, x, h, c, p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"], null);
        AssertClose(rh, hn, 1e-12, "LstmCell h");
        AssertClose(rc!, cn, 1e-12, "LstmCell c");

        var gru = new GruCell(3, 4, dtype: DType.Float64);
        p = Parameters(gru);
        AssertClose(Cell(Kind.Gru, x, h, null, p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"], null).H, gru.Forward(x, h), 1e-12, "GruCell");

        var rnn = new RnnCell(3, 4, bias: false, nonlinearity: RnnNonlinearity.Relu, dtype: DType.Float64);
        p = Parameters(rnn);
        AssertClose(Cell(Kind.RnnRelu, x, h, null, p["weight_ih"], p["weight_hh"], null, null, null).H, rnn.Forward(x, h), 1e-12, "RnnCell");
        // No state means zeros; unbatched input gives an unbatched state.
        AssertClose(rnn.Forward(x, Tensor.Zeros([2, 4], DType.Float64)), rnn.Forward(x), 0, "RnnCell from zeros");
        Assert.Equal([4], lstm.Forward(x.Select(0, 1)).H.Sizes);
        AssertClose(lstm.Forward(x, (h, c)).C.Select(0, 1), lstm.Forward(x.Select(0, 1), (h.Select(0, 1), c.Select(0, 1))).C, 0, "unbatched LstmCell");
    }

    [Fact]
    public void Step_observer_sees_each_h_t_and_its_total_gradient_through_time()
    {
        var layer = Make(Kind.Lstm, 3, 4, layers: 2);
        var observed = new Tensor[5];
        var seen = new List<int>();
        layer.StepObserver = (t, h) =>
        {
            seen.Add(t);
            h.RetainGrad();
            observed[t] = h;
        };
        var x = Randn(1, 5, 2, 3);
        var (output, state) = layer.Forward(x);
        Assert.Equal([0, 1, 2, 3, 4], seen);
        for (int t = 0; t < 5; t++) AssertClose(output.Select(0, t), observed[t], 0, $"h_{t}");
        var weights = Randn(2, 5, 2, 4);
        ((output * weights).Sum() + state.Hidden.Sum()).Backward();

        var refObserved = new Tensor[5];
        var p = Parameters(layer);
        var (refOutput, refH, _) = Run(Kind.Lstm, p, 2, false, x, Tensor.Zeros([2, 2, 4], DType.Float64), Tensor.Zeros([2, 2, 4], DType.Float64),
            observed: refObserved);
        ((refOutput * weights).Sum() + refH.Sum()).Backward();
        for (int t = 0; t < 5; t++) AssertClose(refObserved[t].Grad!, observed[t].Grad!, 1e-12, $"∂L/∂h_{t}");
        // Early steps get gradient through later ones, not only from their own output.
        Assert.True((observed[0].Grad! - weights.Select(0, 0)).Abs().Sum().Item() > 1e-3);
    }

    [Fact]
    public void Dropout_applies_between_layers_only_in_training()
    {
        var lstm = new Lstm(3, 4, numLayers: 2, dropout: 1.0, dtype: DType.Float64, generator: new Generator(1));
        var x = Randn(1, 4, 2, 3).AsLeaf();
        var (output, _) = lstm.Forward(x);
        // Everything the first layer passes on is dropped, so the output cannot depend on the input.
        var grad = Autograd.Grad([output.Sum()], [x])[0];
        Assert.True(grad is null || grad.Abs().Sum().Item() == 0);
        lstm.Eval();
        var grad2 = Autograd.Grad([lstm.Forward(x).Output.Sum()], [x])[0]!;
        Assert.True(grad2.Abs().Sum().Item() > 0);
    }

    [Fact]
    public void Wrong_shapes_are_named_with_the_layer_and_the_shapes()
    {
        var lstm = new Lstm(3, 4, numLayers: 2);
        var e = Assert.Throws<ShapeMismatchException>(() => lstm.Forward(Tensor.Zeros(5, 2, 7)));
        Assert.Contains("Lstm", e.Message);
        Assert.Contains("[5, 2, 7]", e.Message);
        Assert.Contains("inputSize 3", e.Message);
        e = Assert.Throws<ShapeMismatchException>(() => lstm.Forward(Tensor.Zeros(5, 2, 3), new RecurrentState(Tensor.Zeros(1, 2, 4), Tensor.Zeros(2, 2, 4))));
        Assert.Contains("[1, 2, 4]", e.Message);
        Assert.Contains("[2, 2, 4]", e.Message);
        var gru = new Gru(3, 4);
        e = Assert.Throws<ShapeMismatchException>(() => gru.Forward(Tensor.Zeros(5, 2, 3), Tensor.FromArray(new long[] { 5, 2, 1 }, 3)));
        Assert.Contains("Gru", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => gru.Forward(Tensor.Zeros(5, 2, 3), Tensor.FromArray(new long[] { 6, 2 }, 2)));
        var cell = Assert.Throws<ShapeMismatchException>(() => new LstmCell(3, 4).Forward(Tensor.Zeros(2, 3), (Tensor.Zeros(2, 5), Tensor.Zeros(2, 4))));
        Assert.Contains("LstmCell", cell.Message);
        Assert.Contains("[2, 5]", cell.Message);
    }

    [Fact]
    public void State_dict_round_trips_and_detach_cuts_the_graph()
    {
        var a = new Lstm(3, 4, numLayers: 2, bidirectional: true, generator: new Generator(1));
        var b = new Lstm(3, 4, numLayers: 2, bidirectional: true, generator: new Generator(2));
        b.LoadStateDict(a.StateDict());
        var x = Tensor.Randn(new Shape(5, 2, 3), generator: new Generator(3));
        Assert.Equal(a.Forward(x).Output.ToArray<float>(), b.Forward(x).Output.ToArray<float>());
        var (_, state) = a.Forward(x);
        Assert.True(state.Hidden.RequiresGrad);
        var detached = state.Detach();
        Assert.False(detached.Hidden.RequiresGrad || detached.Cell!.RequiresGrad);
        Assert.Equal(state.Hidden.ToArray<float>(), detached.Hidden.ToArray<float>());
    }

    [Fact]
    public void A_second_backward_pass_starts_from_fresh_step_gradients()
    {
        // The fused steps collect their gradients in per-pass buffers; a retained graph run twice must double them.
        var layer = Make(Kind.Gru, 3, 4, layers: 2);
        var x = Randn(1, 5, 2, 3);
        var (output, _) = layer.Forward(x);
        var loss = (output * Randn(2, 5, 2, 4)).Sum();
        var p = Parameters(layer).Values.ToArray();
        var first = Autograd.Grad([loss], p, retainGraph: true);
        var second = Autograd.Grad([loss], p);
        for (int i = 0; i < p.Length; i++) AssertClose(first[i]!, second[i]!, 0, $"gradient {i} on the second pass");
    }

    [Fact]
    public void A_loss_on_early_steps_only_matches_the_reference()
    {
        // Later steps get no gradient at all; their rows of the gradient buffers must stay zero.
        var layer = Make(Kind.Lstm, 3, 4, bidirectional: true);
        var x = Randn(1, 6, 2, 3);
        var (output, _) = layer.Forward(x);
        var p = Parameters(layer);
        var ours = Autograd.Grad([output.Narrow(0, 0, 2).Sum()], [.. p.Values]);
        var (refOutput, _, _) = Run(Kind.Lstm, p, 1, true, x, Tensor.Zeros([2, 2, 4], DType.Float64), Tensor.Zeros([2, 2, 4], DType.Float64));
        var theirs = Autograd.Grad([refOutput.Narrow(0, 0, 2).Sum()], [.. p.Values]);
        for (int i = 0; i < ours.Length; i++) AssertClose(theirs[i]!, ours[i]!, 1e-11, $"∂L/∂{p.Keys.ElementAt(i)}");
    }

    [Fact]
    public void Each_time_step_records_one_fused_node_and_the_input_projection_one_gemm()
    {
        var lstm = new Lstm(3, 4);
        var (output, _) = lstm.Forward(Tensor.Randn(new Shape(7, 2, 3), generator: new Generator(1)));
        var counts = new Dictionary<string, int>();
        var seen = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<Node>([output.GradFn!]);
        while (pending.Count > 0)
        {
            var node = pending.Pop();
            if (!seen.Add(node)) continue;
            counts[node.Name] = counts.GetValueOrDefault(node.Name) + 1;
            foreach (var next in node.NextFunctions) if (next is not null) pending.Push(next);
        }
        Assert.Equal(7, counts["LstmStepBackward"]);
        Assert.Equal(1, counts["RecurrentInputsBackward"]);
        Assert.Equal(1, counts["LinearBackward"]);
        // Per step: the fused op, h and c selected from its [2, B, H] output (a slice and a view each), and the
        // unsqueeze that stacks h into the output; a composed cell records a dozen nodes more.
        Assert.True(seen.Count <= 6 * 7 + 6, $"{seen.Count} nodes for 7 steps: {string.Join(", ", counts.Select(c => $"{c.Key} {c.Value}"))}");
    }
}
