using Backprop.Nn;

namespace Backprop.Tests.Backends;

/// <summary>
/// Operands on two devices fail with an ArgumentException naming the op and both devices, before any kernel sees a
/// storage of another backend (which on a real GPU would be a crash or garbage, and on the counting backend is refused).
/// </summary>
public class MixedDeviceTests
{
    private static readonly Device Counting = CountingBackend.Register();

    public static TheoryData<string> Cases => [.. All().Select(c => c.Name)];

    private static IEnumerable<(string Name, Action Run)> All()
    {
        var cpu = Tensor.Randn([2, 3]);
        var far = Tensor.Randn([2, 3], device: Counting);
        var idx = Tensor.FromArray(new long[] { 1, 0 });
        var farIdx = idx.To(Counting);
        var w = Tensor.Randn([3, 3], device: Counting);
        var img = Tensor.Randn([1, 3, 2, 2]);
        var ones3 = Tensor.Ones([3], device: Counting);
        return
        [
            ("Linear", () => Functional.Linear(cpu, w)),
            ("Linear bias", () => Functional.Linear(far, w, Tensor.Ones([3]))),
            ("Embedding", () => Functional.Embedding(idx, w)),
            ("IndexSelect", () => far.IndexSelect(0, idx)),
            ("IndexAdd", () => far.IndexAdd(0, idx, cpu)),
            ("Gather", () => far.Gather(1, Tensor.Zeros([2, 1], DType.Int64))),
            ("ScatterAdd", () => far.ScatterAdd(1, Tensor.Zeros([2, 1], DType.Int64), Tensor.Ones([2, 1], device: Counting))),
            ("CrossEntropy", () => Functional.CrossEntropy(far, idx)),
            ("CrossEntropy weight", () => Functional.CrossEntropy(far, farIdx, weight: Tensor.Ones([3]))),
            ("NllLoss", () => Functional.NllLoss(far, idx)),
            ("Mse", () => Functional.MseLoss(far, cpu)),
            ("Bce", () => Functional.BinaryCrossEntropy(far.Sigmoid(), cpu.Sigmoid())),
            ("BceLogits", () => Functional.BinaryCrossEntropyWithLogits(far, cpu.Sigmoid())),
            ("BatchNorm", () => Functional.BatchNorm(img, ones3, ones3, training: false)),
            ("LayerNorm", () => Functional.LayerNorm(cpu, [3], ones3)),
            ("GroupNorm", () => Functional.GroupNorm(img, 3, ones3)),
            ("Where", () => Tensor.Where(cpu.Gt(0), far, far)),
            ("Stack", () => Tensor.Stack([cpu, far])),
            ("MatMul", () => cpu.MatMul(w)),
        ];
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Operands_on_two_devices_fail_with_a_clear_error(string name)
    {
        var run = All().Single(c => c.Name == name).Run;
        var e = Record.Exception(run);
        Assert.True(e is ArgumentException && e.Message.Contains("cpu", StringComparison.Ordinal) && e.Message.Contains("counting:0", StringComparison.Ordinal),
            $"{name}: {e?.GetType().Name}: {e?.Message}");
    }
}
