namespace Backprop.Diagnostics;

/// <summary>
/// Self-attention on two tokens with d = 2, built from the engine's primitive ops (matmul, softmax) in float64 so
/// every intermediate of the forward pass and every gradient of the backward pass is a real tensor of the graph:
/// S = Q·Kᵀ/√d, A = softmax(S) row by row, O = A·V, L = ½‖O − Y‖². <c>backprop explain attention</c> prints it.
/// </summary>
public sealed class AttentionWorkedExample
{
    private AttentionWorkedExample(Tensor query, Tensor key, Tensor value, Tensor target)
    {
        Query = query;
        Key = key;
        Value = value;
        Target = target;
        Scale = 1 / Math.Sqrt(query.Size(1));
        Scores = Named(query.MatMul(key.Transpose(0, 1)) * Scale, "S");
        Weights = Named(Scores.Softmax(1), "A");
        Output = Named(Weights.MatMul(value), "O");
        Loss = Named((Output - target).Square().Sum() * 0.5, "L");
        foreach (var t in new[] { Scores, Weights, Output }) t.RetainGrad();
        Loss.Backward();
        SoftmaxJacobians = Enumerable.Range(0, Scores.Size(0)).Select(SoftmaxJacobian).ToArray();
        FusedOpDifference = CompareWithFusedOp();
    }

    /// <summary>The example the command shows: queries, keys and values of two tokens, and the target output.</summary>
    public static AttentionWorkedExample Create() => Create(
        [[1.0, 0.5], [-0.5, 1.0]],
        [[0.8, -0.2], [0.3, 0.9]],
        [[1.0, 2.0], [-1.0, 0.5]],
        [[0.5, 1.0], [0.0, 0.0]]);

    /// <summary>An example with given Q, K [tokens, d], V [tokens, dv] and target Y [tokens, dv].</summary>
    public static AttentionWorkedExample Create(double[][] query, double[][] key, double[][] value, double[][] target)
    {
        var q = Leaf(query, "Q");
        var k = Leaf(key, "K");
        var v = Leaf(value, "V");
        var y = Named(Matrix(target), "Y");
        if (q.Size(1) != k.Size(1) || k.Size(0) != v.Size(0) || y.Size(0) != q.Size(0) || y.Size(1) != v.Size(1))
            throw new ShapeMismatchException("AttentionWorkedExample", $"Q {q.Shape}, K {k.Shape}, V {v.Shape} and Y {y.Shape} do not fit attention");
        return new AttentionWorkedExample(q, k, v, y);
    }

    /// <summary>Q [tokens, d], a leaf that requires grad.</summary>
    public Tensor Query { get; }

    /// <summary>K [tokens, d], a leaf that requires grad.</summary>
    public Tensor Key { get; }

    /// <summary>V [tokens, dv], a leaf that requires grad.</summary>
    public Tensor Value { get; }

    /// <summary>Y, the target of the output.</summary>
    public Tensor Target { get; }

    /// <summary>1/√d.</summary>
    public double Scale { get; }

    /// <summary>S = Q·Kᵀ/√d.</summary>
    public Tensor Scores { get; }

    /// <summary>A = softmax(S) along each row: how much each query token takes from each key token.</summary>
    public Tensor Weights { get; }

    /// <summary>O = A·V.</summary>
    public Tensor Output { get; }

    /// <summary>L = ½‖O − Y‖².</summary>
    public Tensor Loss { get; }

    /// <summary>∂L/∂O (= O − Y), from the engine.</summary>
    public Tensor GradOutput => Output.Grad!;

    /// <summary>∂L/∂A (= ∂L/∂O·Vᵀ), from the engine.</summary>
    public Tensor GradWeights => Weights.Grad!;

    /// <summary>∂L/∂S, from the engine: row i is J_i·∂L/∂A_i.</summary>
    public Tensor GradScores => Scores.Grad!;

    /// <summary>∂L/∂V (= Aᵀ·∂L/∂O), from the engine.</summary>
    public Tensor GradValue => Value.Grad!;

    /// <summary>∂L/∂Q (= ∂L/∂S·K/√d), from the engine.</summary>
    public Tensor GradQuery => Query.Grad!;

    /// <summary>∂L/∂K (= ∂L/∂Sᵀ·Q/√d), from the engine.</summary>
    public Tensor GradKey => Key.Grad!;

    /// <summary>
    /// The Jacobian ∂A_i/∂S_i of each row's softmax (J = diag(a) − a·aᵀ), built by the engine one backward pass per
    /// output element (row j of J is the gradient of a_j).
    /// </summary>
    public IReadOnlyList<Tensor> SoftmaxJacobians { get; }

    /// <summary>
    /// The largest absolute difference between this step-by-step graph and the fused
    /// <see cref="Nn.Functional.ScaledDotProductAttention"/> op (which training uses) over O, ∂L/∂Q, ∂L/∂K and ∂L/∂V.
    /// </summary>
    public double FusedOpDifference { get; }

    private double CompareWithFusedOp()
    {
        var q = Query.Detach().SetRequiresGrad();
        var k = Key.Detach().SetRequiresGrad();
        var v = Value.Detach().SetRequiresGrad();
        var output = Nn.Functional.ScaledDotProductAttention(q, k, v);
        ((output - Target).Square().Sum() * 0.5).Backward();
        return new[] { (output, Output), (q.Grad!, GradQuery), (k.Grad!, GradKey), (v.Grad!, GradValue) }
            .Max(pair => (pair.Item1 - pair.Item2).Abs().Max().ToArray<double>()[0]);
    }

    private Tensor SoftmaxJacobian(int row)
    {
        var scores = Scores.Select(0, row).Detach().SetRequiresGrad();
        var weights = scores.Softmax(0);
        int n = scores.Size(0);
        var rows = new Tensor[n];
        for (int j = 0; j < n; j++)
            rows[j] = Autograd.Grad([weights.Select(0, j)], [scores], retainGraph: true)[0]!;
        return Named(Tensor.Stack(rows), $"J{row + 1}");
    }

    private static Tensor Leaf(double[][] rows, string name) => Named(Matrix(rows).SetRequiresGrad(), name);

    private static Tensor Matrix(double[][] rows)
    {
        if (rows.Length == 0 || rows.Any(r => r.Length != rows[0].Length || r.Length == 0))
            throw new ArgumentException("AttentionWorkedExample: a matrix needs at least one row, all rows of one nonzero length.");
        return Tensor.FromArray(rows.SelectMany(r => r).ToArray(), rows.Length, rows[0].Length);
    }

    private static Tensor Named(Tensor t, string name)
    {
        t.Name = name;
        return t;
    }
}
