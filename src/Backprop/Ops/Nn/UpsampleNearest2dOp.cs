using Backprop.Diagnostics;
using static Backprop.Nn.Functional;

namespace Backprop.Ops;

/// <summary>
/// Nearest-neighbour resampling of [N, C, H, W]: output row i copies input row rows[i], and likewise for columns.
/// The backward sums each output gradient back into the row and column it was copied from (index-add), so it is
/// differentiable again and works for any index tables, integer scale or not.
/// </summary>
internal sealed class UpsampleNearest2dOp : Node, IGradchecked
{
    private readonly int[] _inputSizes;

    private UpsampleNearest2dOp(Tensor x, Tensor rows, Tensor columns) : base(x)
    {
        _inputSizes = x.Sizes;
        Save(rows, columns);
    }

    /// <param name="rows">Int64 [OH]: the input row each output row copies.</param>
    /// <param name="columns">Int64 [OW]: the input column each output column copies.</param>
    public static Tensor Apply(Tensor x, Tensor rows, Tensor columns)
    {
        var backend = x.Backend;
        var tall = Tensor.Empty([x.Sizes[0], x.Sizes[1], rows.Sizes[0], x.Sizes[3]], x.DType, backend);
        backend.IndexSelect(x.Strided, 2, rows.Strided, tall.Strided);
        var y = Tensor.Empty([x.Sizes[0], x.Sizes[1], rows.Sizes[0], columns.Sizes[0]], x.DType, backend);
        backend.IndexSelect(tall.Strided, 3, columns.Strided, y.Strided);
        return Autograd.IsRecording(x) ? new UpsampleNearest2dOp(x, rows, columns).Attach(y) : y;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        int[] tallSizes = [_inputSizes[0], _inputSizes[1], g.Sizes[2], _inputSizes[3]];
        var tall = Tensor.Zeros(tallSizes, g.DType, g.Device).IndexAdd(3, Saved(1), g);
        grads[0] = Tensor.Zeros(_inputSizes, g.DType, g.Device).IndexAdd(2, Saved(0), tall);
    }

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => Apply(t[0]!, Saved(0), Saved(1));

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Upsample scale 2", x => Upsample(x[0], scaleFactor: 2), [2, 2, 2, 3]),
        new("Upsample to size non-integer", x => Upsample(x[0], size: (5, 4)), [1, 2, 3, 3]),
        new("Upsample down and up transposed", x => Upsample(x[0], size: (2, 7)), GradcheckInput.Transposed(1, 1, 3, 5)),
        new("Upsample scale 1.5 strided", x => Upsample(x[0], scaleFactor: 1.5), GradcheckInput.Strided(1, 2, 3, 2)),
    ];
}
