using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;

namespace Backprop.Tests.Docs;

/// <summary>
/// Generates docs/ops.md, the table of every public tensor op with the dtypes it accepts and whether it is
/// differentiable, by running each op; the test fails when the file differs from what the code does now.
/// Set BACKPROP_WRITE_OP_TABLE=1 to write the file instead of comparing.
/// </summary>
public class OpTableTests
{
    /// <summary>The operands an op runs on: one dtype for all of them (or float64 requiring grad for the gradient column).</summary>
    private sealed record Inputs(Tensor X, Tensor Y, Tensor P, DType DType);

    /// <summary>One row: the op's family, a call on small inputs, and the names of a tuple result's members.</summary>
    private sealed record Op(string Family, Func<Inputs, object> Run, string[]? Members = null);

    private const string Elementwise = "Element-wise";
    private const string Reductions = "Reductions";
    private const string Ordering = "Ordering";
    private const string Indexing = "Indexing and scatter";
    private const string Movement = "Shape and movement";
    private const string LinearAlgebra = "Linear algebra";
    private const string Activations = "Activations";
    private const string Sampling = "Sampling";
    private static readonly string[] Families = [Elementwise, Reductions, Ordering, Indexing, Movement, LinearAlgebra, Activations, Sampling];

    private static readonly string[] ValuesIndices = ["values", "indices"];
    private static Tensor Index(params long[] values) => Tensor.FromArray(values, 1, values.Length);
    private static Tensor Mask => Tensor.FromArray(new[] { true, false, true }, 1, 3);

    private static readonly Dictionary<string, Op> Catalog = new()
    {
        // Element-wise: arithmetic, comparisons, logic, functions.
        ["Add"] = new(Elementwise, i => Tensor.Add(i.X, i.Y)),
        ["Sub"] = new(Elementwise, i => Tensor.Sub(i.X, i.Y)),
        ["Mul"] = new(Elementwise, i => Tensor.Mul(i.X, i.Y)),
        ["Div"] = new(Elementwise, i => Tensor.Div(i.X, i.Y)),
        ["Remainder"] = new(Elementwise, i => Tensor.Remainder(i.X, i.Y)),
        ["Fmod"] = new(Elementwise, i => Tensor.Fmod(i.X, i.Y)),
        ["Pow"] = new(Elementwise, i => Tensor.Pow(i.X, i.Y)),
        ["Maximum"] = new(Elementwise, i => Tensor.Maximum(i.X, i.Y)),
        ["Minimum"] = new(Elementwise, i => Tensor.Minimum(i.X, i.Y)),
        ["Atan2"] = new(Elementwise, i => Tensor.Atan2(i.X, i.Y)),
        ["Hypot"] = new(Elementwise, i => Tensor.Hypot(i.X, i.Y)),
        ["Lerp"] = new(Elementwise, i => Tensor.Lerp(i.X, i.Y, i.P)),
        ["Where"] = new(Elementwise, i => Tensor.Where(Mask, i.X, i.Y)),
        ["Clamp"] = new(Elementwise, i => i.X.Clamp(1, 3)),
        ["Neg"] = new(Elementwise, i => i.X.Neg()),
        ["Abs"] = new(Elementwise, i => i.X.Abs()),
        ["Sign"] = new(Elementwise, i => i.X.Sign()),
        ["Square"] = new(Elementwise, i => i.X.Square()),
        ["Reciprocal"] = new(Elementwise, i => i.X.Reciprocal()),
        ["Exp"] = new(Elementwise, i => i.X.Exp()),
        ["Expm1"] = new(Elementwise, i => i.X.Expm1()),
        ["Log"] = new(Elementwise, i => i.X.Log()),
        ["Log1p"] = new(Elementwise, i => i.X.Log1p()),
        ["Sqrt"] = new(Elementwise, i => i.X.Sqrt()),
        ["Sin"] = new(Elementwise, i => i.X.Sin()),
        ["Cos"] = new(Elementwise, i => i.X.Cos()),
        ["Tan"] = new(Elementwise, i => i.X.Tan()),
        ["Asin"] = new(Elementwise, i => i.P.Asin()),
        ["Acos"] = new(Elementwise, i => i.P.Acos()),
        ["Atan"] = new(Elementwise, i => i.X.Atan()),
        ["Sinh"] = new(Elementwise, i => i.X.Sinh()),
        ["Cosh"] = new(Elementwise, i => i.X.Cosh()),
        ["Erf"] = new(Elementwise, i => i.X.Erf()),
        ["Erfinv"] = new(Elementwise, i => i.P.Erfinv()),
        ["Floor"] = new(Elementwise, i => i.X.Floor()),
        ["Ceil"] = new(Elementwise, i => i.X.Ceil()),
        ["Round"] = new(Elementwise, i => i.X.Round()),
        ["Trunc"] = new(Elementwise, i => i.X.Trunc()),
        ["Step"] = new(Elementwise, i => i.X.Step()),
        ["Eq"] = new(Elementwise, i => i.X.Eq(i.Y)),
        ["Ne"] = new(Elementwise, i => i.X.Ne(i.Y)),
        ["Lt"] = new(Elementwise, i => i.X.Lt(i.Y)),
        ["Le"] = new(Elementwise, i => i.X.Le(i.Y)),
        ["Gt"] = new(Elementwise, i => i.X.Gt(i.Y)),
        ["Ge"] = new(Elementwise, i => i.X.Ge(i.Y)),
        ["IsNaN"] = new(Elementwise, i => i.X.IsNaN()),
        ["IsInf"] = new(Elementwise, i => i.X.IsInf()),
        ["IsFinite"] = new(Elementwise, i => i.X.IsFinite()),
        ["And"] = new(Elementwise, i => i.X.And(i.Y)),
        ["Or"] = new(Elementwise, i => i.X.Or(i.Y)),
        ["Xor"] = new(Elementwise, i => i.X.Xor(i.Y)),
        ["Not"] = new(Elementwise, i => i.X.Not()),
        // Reductions.
        ["Sum"] = new(Reductions, i => i.X.Sum(0)),
        ["Mean"] = new(Reductions, i => i.X.Mean(0)),
        ["Max"] = new(Reductions, i => i.X.Max(0)),
        ["Min"] = new(Reductions, i => i.X.Min(0)),
        ["MaxWithIndices"] = new(Reductions, i => i.X.MaxWithIndices(0), ValuesIndices),
        ["MinWithIndices"] = new(Reductions, i => i.X.MinWithIndices(0), ValuesIndices),
        ["ArgMax"] = new(Reductions, i => i.X.ArgMax(0)),
        ["ArgMin"] = new(Reductions, i => i.X.ArgMin(0)),
        ["Any"] = new(Reductions, i => i.X.Any(0)),
        ["All"] = new(Reductions, i => i.X.All(0)),
        ["Var"] = new(Reductions, i => i.X.Var([0])),
        ["Std"] = new(Reductions, i => i.X.Std([0])),
        ["LogSumExp"] = new(Reductions, i => i.X.LogSumExp(0)),
        ["Norm"] = new(Reductions, i => i.X.Norm(2, 0)),
        ["Dist"] = new(Reductions, i => Tensor.Dist(i.X, i.Y)),
        ["CDist"] = new(Reductions, i => Tensor.CDist(i.X, i.Y)),
        ["Cumsum"] = new(Reductions, i => i.X.Cumsum(0)),
        ["Cumprod"] = new(Reductions, i => i.X.Cumprod(0)),
        ["Bincount"] = new(Reductions, i => i.X.Reshape(-1).Bincount()),
        ["Histc"] = new(Reductions, i => i.X.Histc(4, 0, 4)),
        // Ordering.
        ["Sort"] = new(Ordering, i => i.X.Sort(), ValuesIndices),
        ["Argsort"] = new(Ordering, i => i.X.Argsort()),
        ["TopK"] = new(Ordering, i => i.X.TopK(2), ValuesIndices),
        ["Kthvalue"] = new(Ordering, i => i.X.Kthvalue(2), ValuesIndices),
        ["Median"] = new(Ordering, i => i.X.Median()),
        ["Mode"] = new(Ordering, i => i.X.Mode(), ValuesIndices),
        ["Unique"] = new(Ordering, i => i.X.Unique(returnInverse: true, returnCounts: true), ["values", "inverse", "counts"]),
        // Indexing and scatter.
        ["Gather"] = new(Indexing, i => i.X.Gather(1, Index(2, 0))),
        ["IndexSelect"] = new(Indexing, i => i.X.IndexSelect(0, Tensor.FromArray(new long[] { 2, 0 }))),
        ["IndexAdd"] = new(Indexing, i => i.X.IndexAdd(0, Tensor.FromArray(new long[] { 2 }), i.Y.Narrow(0, 0, 1))),
        ["IndexPut"] = new(Indexing, i => i.X.IndexPut([Tensor.FromArray(new long[] { 0, 2 })], i.Y.Narrow(0, 0, 2), accumulate: true)),
        ["Scatter"] = new(Indexing, i => i.X.Scatter(1, Index(2, 0), i.Y.Narrow(0, 0, 1).Narrow(1, 0, 2))),
        ["ScatterAdd"] = new(Indexing, i => i.X.ScatterAdd(1, Index(2, 0), i.Y.Narrow(0, 0, 1).Narrow(1, 0, 2))),
        ["ScatterReduce"] = new(Indexing, i => i.X.ScatterReduce(1, Index(2, 0), i.Y.Narrow(0, 0, 1).Narrow(1, 0, 2), ScatterReduction.Replace)),
        ["MaskedFill"] = new(Indexing, i => i.X.MaskedFill(Mask, 1)),
        ["OneHot"] = new(Indexing, i => i.X.OneHot(6)),
        // Shape and movement.
        ["To"] = new(Movement, i => i.X.To(DType.Float64)),
        ["Clone"] = new(Movement, i => i.X.Clone()),
        ["Contiguous"] = new(Movement, i => i.X.Transpose(0, 1).Contiguous()),
        ["Reshape"] = new(Movement, i => i.X.Reshape(9)),
        ["View"] = new(Movement, i => i.X.View(9)),
        ["ReshapeAs"] = new(Movement, i => i.X.ReshapeAs(i.Y.Reshape(9))),
        ["Flatten"] = new(Movement, i => i.X.Flatten()),
        ["Squeeze"] = new(Movement, i => i.X.Unsqueeze(0).Squeeze(0)),
        ["Unsqueeze"] = new(Movement, i => i.X.Unsqueeze(0)),
        ["Transpose"] = new(Movement, i => i.X.Transpose(0, 1)),
        ["Permute"] = new(Movement, i => i.X.Permute(1, 0)),
        ["Expand"] = new(Movement, i => i.X.Unsqueeze(0).Expand(2, 3, 3)),
        ["ExpandAs"] = new(Movement, i => i.X.Narrow(0, 0, 1).ExpandAs(i.Y)),
        ["Narrow"] = new(Movement, i => i.X.Narrow(0, 1, 2)),
        ["Slice"] = new(Movement, i => i.X.Slice(1, 0, 3, 2)),
        ["Select"] = new(Movement, i => i.X.Select(0, 1)),
        ["Chunk"] = new(Movement, i => i.X.Chunk(3)),
        ["Split"] = new(Movement, i => i.X.Split(2)),
        ["Cat"] = new(Movement, i => Tensor.Cat([i.X, i.Y], 1)),
        ["Stack"] = new(Movement, i => Tensor.Stack([i.X, i.Y])),
        ["Flip"] = new(Movement, i => i.X.Flip(0)),
        ["Roll"] = new(Movement, i => i.X.Roll(1, 0)),
        ["Repeat"] = new(Movement, i => i.X.Repeat(2, 1)),
        ["Tile"] = new(Movement, i => i.X.Tile(2)),
        ["Tril"] = new(Movement, i => i.X.Tril()),
        ["Triu"] = new(Movement, i => i.X.Triu()),
        ["Diagonal"] = new(Movement, i => i.X.Diagonal()),
        ["Diag"] = new(Movement, i => i.X.Diag()),
        ["DiagEmbed"] = new(Movement, i => i.X.Diagonal().DiagEmbed()),
        // Linear algebra.
        ["MatMul"] = new(LinearAlgebra, i => Tensor.MatMul(i.X, i.Y)),
        ["Dot"] = new(LinearAlgebra, i => i.X.Reshape(-1).Dot(i.Y.Reshape(-1))),
        ["Einsum"] = new(LinearAlgebra, i => Tensor.Einsum("ij,jk->ik", i.X, i.Y)),
        ["Linalg.Solve"] = new(LinearAlgebra, i => Linalg.Solve(i.X, i.Y)),
        ["Linalg.Inv"] = new(LinearAlgebra, i => Linalg.Inv(i.X)),
        ["Linalg.Det"] = new(LinearAlgebra, i => Linalg.Det(i.X)),
        ["Linalg.Slogdet"] = new(LinearAlgebra, i => Linalg.Slogdet(i.X), ["sign", "logabsdet"]),
        ["Linalg.Cholesky"] = new(LinearAlgebra, i => Linalg.Cholesky(i.X)),
        ["Linalg.Qr"] = new(LinearAlgebra, i => Linalg.Qr(i.X), ["Q", "R"]),
        ["Linalg.Svd"] = new(LinearAlgebra, i => Linalg.Svd(i.X), ["U", "S", "Vh"]),
        ["Linalg.Svdvals"] = new(LinearAlgebra, i => Linalg.Svdvals(i.X)),
        ["Linalg.Eigh"] = new(LinearAlgebra, i => Linalg.Eigh(i.X), ["eigenvalues", "eigenvectors"]),
        ["Linalg.Eigvalsh"] = new(LinearAlgebra, i => Linalg.Eigvalsh(i.X)),
        ["Linalg.Lstsq"] = new(LinearAlgebra, i => Linalg.Lstsq(i.X, i.Y)),
        ["Linalg.MatrixNorm"] = new(LinearAlgebra, i => Linalg.MatrixNorm(i.X)),
        // Activations.
        ["Relu"] = new(Activations, i => i.X.Relu()),
        ["LeakyRelu"] = new(Activations, i => i.X.LeakyRelu()),
        ["Elu"] = new(Activations, i => i.X.Elu()),
        ["Gelu"] = new(Activations, i => i.X.Gelu()),
        ["Silu"] = new(Activations, i => i.X.Silu()),
        ["Sigmoid"] = new(Activations, i => i.X.Sigmoid()),
        ["Tanh"] = new(Activations, i => i.X.Tanh()),
        ["Softplus"] = new(Activations, i => i.X.Softplus()),
        ["Softmax"] = new(Activations, i => i.X.Softmax(1)),
        ["LogSoftmax"] = new(Activations, i => i.X.LogSoftmax(1)),
        // Sampling.
        ["Multinomial"] = new(Sampling, i => i.X.Multinomial(2, generator: new Generator(1))),
        ["Bernoulli"] = new(Sampling, i => i.P.Bernoulli(new Generator(1))),
    };

    /// <summary>Public methods returning tensors that are not ops on tensors, each group with the reason.</summary>
    private static readonly Dictionary<string, string> NotOps = new()
    {
        // Factories: build a tensor from a shape, data or a seed, not from other tensors' values.
        ["Zeros"] = "factory", ["Ones"] = "factory", ["Full"] = "factory", ["Scalar"] = "factory", ["Arange"] = "factory",
        ["Linspace"] = "factory", ["Eye"] = "factory", ["Rand"] = "factory", ["Randn"] = "factory", ["Uniform"] = "factory",
        ["Normal"] = "factory", ["RandInt"] = "factory", ["FromArray"] = "factory",
        ["ZerosLike"] = "factory", ["OnesLike"] = "factory", ["FullLike"] = "factory", ["RandLike"] = "factory", ["RandnLike"] = "factory",
        // Shorthands for To(dtype), which is a row.
        ["Float"] = "To(Float32)", ["Double"] = "To(Float64)", ["Long"] = "To(Int64)", ["Int"] = "To(Int32)", ["Bool"] = "To(Bool)",
        // Autograd bookkeeping: the same values, a different place in the graph.
        ["Detach"] = "autograd", ["SetRequiresGrad"] = "autograd", ["RetainGrad"] = "autograd",
    };

    /// <summary>In-place forms write into their receiver and return it; their out-of-place rows (Add, Clamp, Relu, ...) give the dtypes.</summary>
    private static bool IsInPlace(string name) => name.EndsWith("InPlace", StringComparison.Ordinal) || name == "CopyFrom";

    private static bool ReturnsTensors(Type type) =>
        type == typeof(Tensor) || type == typeof(Tensor[]) ||
        (type.IsGenericType && type.FullName!.StartsWith("System.ValueTuple", StringComparison.Ordinal) &&
         type.GetGenericArguments().All(a => a == typeof(Tensor)));

    private static Inputs MakeInputs(DType dtype, bool requiresGrad)
    {
        // X is symmetric positive definite (for Cholesky and Eigh) with whole positive entries, so integer and Bool
        // forms keep it meaningful; Y is positive (no integer division by zero); P lies in [0, 1] (Bernoulli, Asin, Erfinv).
        Tensor Make(double[] values)
        {
            var t = Tensor.FromArray(values, 3, 3).To(dtype);
            return requiresGrad ? t.SetRequiresGrad() : t;
        }
        return new(Make([4, 1, 2, 1, 3, 1, 2, 1, 5]), Make([1, 2, 1, 3, 1, 2, 1, 1, 2]), Make([0, 0.5, 1, 0.25, 0.75, 0.5, 1, 0, 0.5]), dtype);
    }

    private static Tensor?[] Outputs(object result) => result switch
    {
        Tensor t => [t],
        Tensor[] ts => ts,
        ITuple tuple => Enumerable.Range(0, tuple.Length).Select(k => (Tensor?)tuple[k]).ToArray(),
        _ => throw new InvalidOperationException($"unexpected result {result.GetType()}"),
    };

    /// <summary>
    /// A refusal of the dtype: a NotSupportedException (it may name the promoted dtype: Square on bool computes Pow on
    /// int64), or an ArgumentException that speaks of the dtype (Norm: "needs a floating-point tensor; got int64").
    /// </summary>
    private static bool IsDTypeRefusal(Exception e, DType dtype) =>
        e is NotSupportedException ||
        (e is ArgumentException && (e.Message.Contains("dtype", StringComparison.OrdinalIgnoreCase) || e.Message.Contains(dtype.DisplayName(), StringComparison.Ordinal)));

    /// <summary>The dtypes <paramref name="op"/> accepts, by running it on each.</summary>
    private static List<DType> Accepted(string name, Op op)
    {
        var accepted = new List<DType>();
        foreach (var dtype in Enum.GetValues<DType>())
        {
            try
            {
                _ = Outputs(op.Run(MakeInputs(dtype, requiresGrad: false)));
                accepted.Add(dtype);
            }
            catch (Exception e) when (IsDTypeRefusal(e, dtype)) { }
            catch (Exception e)
            {
                throw new InvalidOperationException($"{name} on {dtype.DisplayName()} threw {e.GetType().Name}, neither success nor a dtype refusal: {e.Message}", e);
            }
        }
        return accepted;
    }

    private static string Differentiable(Op op, List<DType> accepted)
    {
        // An op that takes no float64 (Bincount counts integers) has no gradient to record.
        if (!accepted.Contains(DType.Float64)) return "no";
        var outputs = Outputs(op.Run(MakeInputs(DType.Float64, requiresGrad: true)));
        var tracked = outputs.Select(t => t?.RequiresGrad == true).ToArray();
        if (tracked.All(x => x)) return "yes";
        if (!tracked.Any(x => x)) return "no";
        var names = op.Members ?? throw new InvalidOperationException("an op whose outputs are partly recorded needs Members to name them");
        var yes = names.Where((_, k) => tracked[k]).ToArray();
        return yes.Length == 1 && yes[0] == "values" ? "values only" : string.Join(", ", yes) + " only";
    }

    private static string DTypeList(List<DType> dtypes) =>
        dtypes.Count == 0 ? "none" :
        dtypes.Count == Enum.GetValues<DType>().Length ? "all" :
        string.Join(", ", dtypes.Select(d => d.DisplayName()));

    private static string Render()
    {
        var rows = Catalog.ToDictionary(kv => kv.Key, kv =>
        {
            var accepted = Accepted(kv.Key, kv.Value);
            return (Accepted: accepted, Differentiable: Differentiable(kv.Value, accepted));
        });
        var sb = new StringBuilder();
        sb.Append("""
            # Tensor ops: dtypes and differentiability

            Every public op of `Tensor` and `Linalg`, one row per name (overloads share a row), generated by running each op
            on a small input of every dtype (`tests/Backprop.Tests/Docs/OpTableTests.cs`; regenerate with
            `BACKPROP_WRITE_OP_TABLE=1 dotnet test --filter OpTableTests`). **dtypes** lists those the op accepts on the CPU
            backend ("all" = float32, float64, int64, bool, int32, float16, bfloat16); any other is refused with a
            `NotSupportedException` (or an `ArgumentException` about the dtype). Operands of two dtypes are first promoted
            as PyTorch does (docs/architecture.md, Note [Type promotion]); float16 and bfloat16 compute in float32. `DTypeSupport.Ops`
            states the same for the core kernels, and this test checks that the two agree. **differentiable**: whether the
            result of float64 inputs that require grad is recorded for backward ("values only": the indices of Sort, TopK
            and the like are not). Index, mask and count arguments are int64 or bool whatever the row's dtype.

            Factories (`Zeros`, `Rand`, `FromArray`, ...), the `Float`/`Double`/`Long`/`Int`/`Bool` shorthands for `To`,
            `Detach`/`SetRequiresGrad`/`RetainGrad` and the `...InPlace` forms of listed ops are not rows.

            """);
        foreach (var family in Families)
        {
            sb.Append($"\n## {family}\n\n| op | dtypes | differentiable |\n|---|---|---|\n");
            foreach (var (name, op) in Catalog.Where(kv => kv.Value.Family == family))
                sb.Append($"| `{name}` | {DTypeList(rows[name].Accepted)} | {rows[name].Differentiable} |\n");
        }
        return sb.ToString();
    }

    private static string DocPath([CallerFilePath] string thisFile = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(thisFile)!, "..", "..", "..", "docs", "ops.md"));

    [Fact]
    public void Every_public_op_of_Tensor_and_Linalg_is_in_the_catalog_or_named_as_not_an_op()
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (type, prefix) in new[] { (typeof(Tensor), ""), (typeof(Linalg), "Linalg.") })
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
                if (!method.IsSpecialName && ReturnsTensors(method.ReturnType) && !IsInPlace(method.Name))
                    names.Add(prefix + method.Name);
        var missing = names.Where(n => !Catalog.ContainsKey(n) && !NotOps.ContainsKey(n)).ToList();
        var stale = Catalog.Keys.Concat(NotOps.Keys).Where(n => !names.Contains(n)).ToList();
        Assert.True(missing.Count == 0, "public ops with no row in OpTableTests.Catalog (add one) or NotOps: " + string.Join(", ", missing));
        Assert.True(stale.Count == 0, "rows that name no public method: " + string.Join(", ", stale));
    }

    [Fact]
    public void DTypeSupport_agrees_with_what_the_ops_accept()
    {
        var mismatches = new List<string>();
        foreach (var (name, dtypes) in DTypeSupport.Ops)
            if (Catalog.TryGetValue(name, out var op))
            {
                var accepted = Accepted(name, op);
                if (!accepted.Order().SequenceEqual(dtypes.Order()))
                    mismatches.Add($"{name}: DTypeSupport says {DTypeList(dtypes.ToList())}, the op accepts {DTypeList(accepted)}");
            }
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    [Fact]
    public void Docs_ops_md_is_the_table_the_code_generates()
    {
        var table = Render();
        var path = DocPath();
        if (Environment.GetEnvironmentVariable("BACKPROP_WRITE_OP_TABLE") == "1")
        {
            File.WriteAllText(path, table);
            return;
        }
        var current = File.Exists(path) ? File.ReadAllText(path).ReplaceLineEndings("\n") : "";
        Assert.True(current == table,
            $"docs/ops.md is out of date; run with BACKPROP_WRITE_OP_TABLE=1 to rewrite it, or replace it with:\n\n{table}");
    }
}
