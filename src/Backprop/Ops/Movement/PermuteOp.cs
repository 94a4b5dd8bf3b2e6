using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>Reordered dims (transpose, permute): a view with permuted sizes and strides.</summary>
internal sealed class PermuteOp : Node, IGradchecked
{
    private readonly int[] _inverse;
    private readonly int[] _perm;

    private PermuteOp(Tensor x, int[] perm) : base(x)
    {
        _perm = perm;
        _inverse = new int[perm.Length];
        for (int i = 0; i < perm.Length; i++) _inverse[perm[i]] = i;
    }

    public static Tensor Apply(Tensor x, int[] perm)
    {
        var sizes = new int[perm.Length];
        var strides = new int[perm.Length];
        for (int i = 0; i < perm.Length; i++)
        {
            sizes[i] = x.Sizes[perm[i]];
            strides[i] = x.StrideArray[perm[i]];
        }
        var y = new Tensor(x.Storage, sizes, strides, x.Offset, x);
        return Autograd.IsRecording(x) ? new PermuteOp(x, perm).Attach(y) : y;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads) => grads[0] = g.Permute(_inverse);

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => Apply(t[0]!, _perm);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Transpose", x => x[0].T * x[1], [3, 4], [4, 3]),
        new("Permute", x => x[0].Permute(2, 0, 1).Exp(), [2, 3, 4]),
        new("Transpose of strided", x => x[0].Transpose(0, 1).Sum(0), GradcheckInput.Strided(3, 4)),
    ];
}
