namespace Backprop.Diagnostics;

/// <summary>How gradcheck draws an input's values: away from the points where an op is not differentiable or not defined.</summary>
public enum InputDomain
{
    /// <summary>Uniform in [−2, 2].</summary>
    Real,
    /// <summary>|x| in [0.1, 2] with a random sign: clear of kinks at 0 (ReLU, Abs).</summary>
    NonZero,
    /// <summary>Uniform in [0.2, 2]: for Log, Sqrt, powers with real exponents.</summary>
    Positive,
    /// <summary>Uniform in [0.05, 0.95]: probabilities.</summary>
    Probability,
}

/// <summary>How an input is laid out in memory, so every op is also checked on views that are not contiguous.</summary>
public enum InputLayout
{
    Contiguous,
    /// <summary>The transpose of a contiguous tensor (rank ≥ 2): the last two dims swapped in the strides.</summary>
    Transposed,
    /// <summary>Every other element along the last dim of a larger tensor.</summary>
    Strided,
}

/// <summary>One input of a gradcheck case. A plain shape can be written as a collection expression: <c>[3, 4]</c>.</summary>
[System.Runtime.CompilerServices.CollectionBuilder(typeof(GradcheckInput), nameof(Create))]
public sealed record GradcheckInput(int[] Shape, InputDomain Domain = InputDomain.Real, InputLayout Layout = InputLayout.Contiguous)
    : IEnumerable<int>
{
    public static GradcheckInput Create(ReadOnlySpan<int> shape) => new(shape.ToArray());

    public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)Shape).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public static implicit operator GradcheckInput(int[] shape) => new(shape);

    public static GradcheckInput NonZero(params int[] shape) => new(shape, InputDomain.NonZero);
    public static GradcheckInput Positive(params int[] shape) => new(shape, InputDomain.Positive);
    public static GradcheckInput Probability(params int[] shape) => new(shape, InputDomain.Probability);

    /// <summary>A non-contiguous input: the transpose of a contiguous tensor of the swapped shape.</summary>
    public static GradcheckInput Transposed(params int[] shape) => new(shape, Layout: InputLayout.Transposed);

    /// <summary>A non-contiguous input: every other element of a tensor twice as wide in the last dim.</summary>
    public static GradcheckInput Strided(params int[] shape) => new(shape, Layout: InputLayout.Strided);

    public override string ToString() =>
        Backprop.Shape.Format(Shape) + (Layout == InputLayout.Contiguous ? "" : " " + Layout.ToString().ToLowerInvariant());
}

/// <summary>
/// One row of the gradient-check table: an op, how to call it, and the inputs to check it on. Inputs are drawn in
/// float64; every input requires grad.
/// </summary>
public sealed record GradcheckCase(string Name, Func<Tensor[], Tensor> Function, params GradcheckInput[] Inputs)
{
    public double Atol { get; init; } = 1e-5;
    public double Rtol { get; init; } = 1e-3;
    public double Eps { get; init; } = 1e-6;

    public override string ToString() => $"{Name}({string.Join(", ", Inputs.Select(i => i.ToString()))})";
}

/// <summary>
/// Implemented by every op class: the gradient-check rows for the op, declared beside its forward and backward.
/// The test suite and <c>backprop gradcheck</c> run them all.
/// </summary>
public interface IGradchecked
{
    static abstract IEnumerable<GradcheckCase> GradcheckCases { get; }
}
