namespace Backprop;

/// <summary>
/// Automatic mixed precision (torch.autocast): inside <see cref="Enable"/>, the ops that gain from low precision
/// (matrix products, linear layers, convolutions) run in <see cref="DType.Float16"/> or <see cref="DType.BFloat16"/>,
/// and the ops that need range or accuracy (softmax, log-softmax, sums and means, batch/layer/group norm, every loss)
/// run in float32. Every other op runs in the dtype of its inputs (mixed inputs promote: half + float32 is float32).
/// </summary>
/// <remarks>
/// <para>
/// The casts are ordinary differentiable conversions recorded on the graph, so float32 parameters stay the master
/// weights: their gradients arrive in float32. Only float32 tensors are lowered (float64 is left alone, as PyTorch
/// does). Backward runs with autocast off (each backward formula works in the dtype its forward used), and a
/// checkpointed region is recomputed under the autocast mode it ran in.
/// </para>
/// <para>
/// Half precision kernels on the CPU widen their operands to float32, accumulate in float32 and round the result
/// once (Note [Half precision]); the runtime exposes no half-precision arithmetic instructions to use instead, see
/// <see cref="KernelPath"/>. The gain on a CPU is the memory held for backward (half the bytes per activation), not speed.
/// Like the grad mode, the scope follows <c>await</c> and holds in tasks started inside it.
/// </para>
/// </remarks>
public static class Autocast
{
    private static readonly AsyncLocal<DType?> s_dtype = new(static change => t_dtype = change.CurrentValue);

    [ThreadStatic] private static DType? t_dtype;

    /// <summary>The ops that run in the low-precision dtype inside an autocast scope.</summary>
    public static IReadOnlyList<string> LowPrecisionOps { get; } = ["MatMul", "Linear", "Conv1d", "Conv2d", "ConvTranspose2d"];

    /// <summary>The ops that run in float32 inside an autocast scope (half inputs are widened first).</summary>
    public static IReadOnlyList<string> Float32Ops { get; } =
    [
        "Softmax", "LogSoftmax", "Sum", "Mean", "BatchNorm", "LayerNorm", "GroupNorm",
        "MseLoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "BinaryCrossEntropy", "BinaryCrossEntropyWithLogits", "CrossEntropy", "NllLoss",
    ];

    /// <summary>
    /// How half-precision kernels compute on this machine, in words: the CPU's AVX-512 BF16/FP16 support, whether
    /// the runtime exposes it, and the path the kernels take (convert to float32 on the fly).
    /// </summary>
    public static string KernelPath =>
        "convert on the fly: half operands are widened to float32, computed with float32 accumulation, and rounded once " +
        "(.NET 10 has no AVX-512 BF16 or FP16 intrinsics, even where the CPU has the instructions; " +
        $"System.Runtime.Intrinsics.X86.Avx10v1, which would carry them, reports IsSupported = {System.Runtime.Intrinsics.X86.Avx10v1.IsSupported} here)";

    /// <summary>Whether an autocast scope is active on this flow.</summary>
    public static bool IsEnabled => t_dtype is not null;

    /// <summary>The low-precision dtype of the active scope, or null outside any.</summary>
    public static DType? LowPrecisionDType => t_dtype;

    /// <summary>
    /// Runs the low-precision ops in <paramref name="dtype"/> until disposed: <c>using (Autocast.Enable(DType.BFloat16)) { loss = … }</c>.
    /// Compute the loss inside the scope and call <c>Backward</c> outside it.
    /// </summary>
    public static AutocastScope Enable(DType dtype = DType.BFloat16)
    {
        if (!dtype.IsHalf())
            throw new ArgumentException($"Autocast: the low-precision dtype must be Float16 or BFloat16; got {dtype.DisplayName()}.", nameof(dtype));
        return Set(dtype);
    }

    /// <summary>Turns autocast off until disposed (for a region that must run in full precision).</summary>
    public static AutocastScope Disable() => Set(null);

    internal static AutocastState CurrentState => new(t_dtype);

    internal static AutocastScope Restore(AutocastState state) => Set(state.DType);

    private static AutocastScope Set(DType? dtype)
    {
        var previous = t_dtype;
        if (previous == dtype) return default;
        s_dtype.Value = dtype;
        return new AutocastScope(previous);
    }

    internal static void RestoreDType(DType? dtype) => s_dtype.Value = dtype;

    /// <summary>A float32 tensor converted to the scope's low-precision dtype (on the graph); anything else as it is.</summary>
    internal static Tensor ToLowPrecision(Tensor x) => t_dtype is { } low && x.DType == DType.Float32 ? x.To(low) : x;

    internal static Tensor? ToLowPrecisionOrNull(Tensor? x) => x is null ? null : ToLowPrecision(x);

    /// <summary>A half-precision tensor widened to float32 inside a scope (on the graph); anything else as it is.</summary>
    internal static Tensor ToFloat32(Tensor x) => t_dtype is not null && x.DType.IsHalf() ? x.To(DType.Float32) : x;

    internal static Tensor? ToFloat32OrNull(Tensor? x) => x is null ? null : ToFloat32(x);
}

/// <summary>The autocast mode of a flow, as a checkpoint region remembers it for its recomputation.</summary>
internal readonly record struct AutocastState(DType? DType);

/// <summary>Restores the autocast mode found when the scope began, when disposed (nothing, if the scope changed nothing).</summary>
public readonly struct AutocastScope : IDisposable
{
    private readonly bool _changed;
    private readonly DType? _previous;

    internal AutocastScope(DType? previous)
    {
        _changed = true;
        _previous = previous;
    }

    public void Dispose()
    {
        if (_changed) Autocast.RestoreDType(_previous);
    }
}
