using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>A copy on another device; the gradient is copied back.</summary>
internal sealed class ToDeviceOp : Node, IGradchecked
{
    private readonly Device _from;

    private ToDeviceOp(Tensor x) : base(x) => _from = x.Device;

    public static Tensor Apply(Tensor x, Device device)
    {
        var target = BackendRegistry.For(device);
        var contiguous = x.IsContiguous ? x : CloneOp.Apply(x.Detach());
        Tensor y;
        switch (x.DType)
        {
            case DType.Float32: y = new Tensor(target.Upload<float>(contiguous.ToArray<float>()), x.Sizes); break;
            case DType.Float64: y = new Tensor(target.Upload<double>(contiguous.ToArray<double>()), x.Sizes); break;
            case DType.Int64: y = new Tensor(target.Upload<long>(contiguous.ToArray<long>()), x.Sizes); break;
            case DType.Int32: y = new Tensor(target.Upload<int>(contiguous.ToArray<int>()), x.Sizes); break;
            case DType.Bool: y = new Tensor(target.Upload<bool>(contiguous.ToArray<bool>()), x.Sizes); break;
            case DType.Float16: y = new Tensor(target.Upload<Half>(contiguous.ToArray<Half>()), x.Sizes); break;
            case DType.BFloat16: y = new Tensor(target.Upload<BFloat16>(contiguous.ToArray<BFloat16>()), x.Sizes); break;
            default: throw new NotSupportedException($"To({device}): moving {x.DType.DisplayName()} tensors between devices is not supported.");
        }
        return Autograd.IsRecording(x) ? new ToDeviceOp(x).Attach(y) : y;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads) => grads[0] = g.To(_from);

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => t[0]!.To(y.Device);

    // Only the input's own device is certain to exist; the case still runs the op (a same-device move goes through it).
    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("ToDevice", x => Apply(x[0], x[0].Device) * 3.0, [2, 3]),
    ];
}
