namespace Backprop;

/// <summary>
/// Which dtypes each op accepts on the CPU backend's kernels, as one table (docs/architecture.md, Note [Type promotion]
/// and Note [Half precision]). An op given a dtype outside its row throws a <see cref="NotSupportedException"/> naming
/// the op and the dtype; <c>DTypeSupportTests</c> runs every op on every dtype to keep this table true. docs/ops.md
/// lists every public op the same way, and <c>OpTableTests</c> checks that it agrees with this table.
/// </summary>
public static class DTypeSupport
{
    private static readonly DType[] All = Enum.GetValues<DType>();
    private static readonly DType[] Floats = [DType.Float32, DType.Float64, DType.Float16, DType.BFloat16];
    private static readonly DType[] WideFloats = [DType.Float32, DType.Float64];
    private static readonly DType[] Numbers = [DType.Float32, DType.Float64, DType.Float16, DType.BFloat16, DType.Int64, DType.Int32];
    private static readonly DType[] WideNumbers = [DType.Float32, DType.Float64, DType.Int64, DType.Int32];

    /// <summary>Op name → the dtypes it accepts.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<DType>> Ops { get; } = new Dictionary<string, IReadOnlyList<DType>>
    {
        // Data movement and conversion: every dtype.
        ["To"] = All,
        ["Clone"] = All,
        ["Contiguous"] = All,
        ["Cat"] = All,
        ["Where"] = All,
        // Comparisons and logic: every dtype, a Bool result.
        ["Eq"] = All,
        ["Lt"] = All,
        ["IsNaN"] = All,
        ["And"] = All,
        ["Not"] = All,
        ["Any"] = All,
        ["All"] = All,
        // Arithmetic: every number, and for Bool + is or and * is and (as PyTorch); half precision computes in float32.
        // Div gives a float.
        ["Add"] = All,
        ["Sub"] = Numbers,
        ["Mul"] = All,
        ["Div"] = All,
        ["Sum"] = All,
        ["Mean"] = All,
        ["Max"] = Numbers,
        ["Neg"] = Numbers,
        ["Abs"] = Numbers,
        // Floating-point functions.
        ["Exp"] = Floats,
        ["Sqrt"] = Floats,
        ["Relu"] = Floats,
        ["MatMul"] = Floats,
        ["Conv2d"] = Floats,
        ["MaxPool2d"] = Floats,
        // Kernels without a half-precision path.
        ["ArgMax"] = WideNumbers,
        ["Gather"] = [DType.Float32, DType.Float64, DType.Int64, DType.Int32, DType.Float16],
        ["Softmax"] = WideFloats,
    };

    /// <summary>Whether <paramref name="op"/> accepts <paramref name="dtype"/>, per <see cref="Ops"/>.</summary>
    public static bool Supports(string op, DType dtype) =>
        Ops.TryGetValue(op, out var dtypes) ? dtypes.Contains(dtype) : throw new ArgumentException($"DTypeSupport: no row for op '{op}'.");
}
