namespace Backprop.Tests.Tensors;

/// <summary>
/// Checks <see cref="DTypeSupport"/> against the code: every op runs on every dtype, and succeeds exactly where its row
/// says so; elsewhere it throws a NotSupportedException that names the op and the dtype.
/// </summary>
public class DTypeSupportTests
{
    private static Tensor Input(DType dtype) => Tensor.FromArray(new[] { 1.0, 0, 2, 3, 0, 4 }, 2, 3).To(dtype);

    private static readonly Dictionary<string, Func<Tensor, Tensor>> Runs = new()
    {
        ["To"] = x => x.To(DType.Float64),
        ["Clone"] = x => x.Clone(),
        ["Contiguous"] = x => x.Transpose(0, 1).Contiguous(),
        ["Cat"] = x => Tensor.Cat([x, x], 1),
        ["Where"] = x => Tensor.Where(Tensor.FromArray(new[] { true, false, true }), x, x.Flip(1)),
        ["Eq"] = x => x.Eq(x.Flip(0)),
        ["Lt"] = x => x.Lt(x.Flip(0)),
        ["IsNaN"] = x => x.IsNaN(),
        ["And"] = x => x.And(x.Flip(1)),
        ["Not"] = x => x.Not(),
        ["Any"] = x => x.Any(),
        ["All"] = x => x.All(1),
        ["Add"] = x => x + x.Flip(0),
        ["Sub"] = x => x - x.Flip(0),
        ["Mul"] = x => x * x,
        ["Div"] = x => x / x.Flip(0),
        ["Sum"] = x => x.Sum(0),
        ["Mean"] = x => x.Mean(),
        ["Max"] = x => x.Max(),
        ["Neg"] = x => x.Neg(),
        ["Abs"] = x => x.Abs(),
        ["Exp"] = x => x.Exp(),
        ["Sqrt"] = x => x.Sqrt(),
        ["Relu"] = x => x.Relu(),
        ["MatMul"] = x => x.MatMul(x.Transpose(0, 1)),
        ["ArgMax"] = x => x.ArgMax(1),
        ["Gather"] = x => x.Gather(1, Tensor.FromArray(new long[] { 2, 0, 1, 1 }, 2, 2)),
        ["Softmax"] = x => x.Softmax(1),
        ["Conv2d"] = x => Backprop.Nn.Functional.Conv2d(x.Reshape(1, 1, 2, 3), x.Reshape(1, 1, 2, 3)),
        ["MaxPool2d"] = x => Backprop.Nn.Functional.MaxPool2d(x.Reshape(1, 1, 2, 3), new Size2d(2, 2)),
    };

    [Fact]
    public void Every_row_of_the_table_has_a_run_and_every_run_a_row()
    {
        Assert.Equal(Runs.Keys.Order(), DTypeSupport.Ops.Keys.Order());
    }

    [Fact]
    public void The_table_matches_what_each_op_does_on_each_dtype()
    {
        var mismatches = new List<string>();
        foreach (var (op, run) in Runs)
            foreach (var dtype in Enum.GetValues<DType>())
            {
                bool expected = DTypeSupport.Supports(op, dtype);
                try
                {
                    var y = run(Input(dtype));
                    _ = y.ToArray<double>();
                    if (!expected) mismatches.Add($"{op} on {dtype.DisplayName()} succeeded but the table says unsupported");
                }
                catch (NotSupportedException e)
                {
                    if (expected) mismatches.Add($"{op} on {dtype.DisplayName()} threw: {e.Message}");
                    else if (!e.Message.Contains(dtype.DisplayName()) || !e.Message.Contains(op))
                        mismatches.Add($"{op} on {dtype.DisplayName()}: the error does not name the op and the dtype: {e.Message}");
                }
                catch (Exception e)
                {
                    mismatches.Add($"{op} on {dtype.DisplayName()} threw {e.GetType().Name}, not NotSupportedException: {e.Message}");
                }
            }
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }
}
