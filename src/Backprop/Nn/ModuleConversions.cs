namespace Backprop.Nn;

/// <summary>
/// <c>model.To(device)</c> and <c>model.To(dtype)</c>, as PyTorch's <c>Module.to</c>: every parameter, its gradient
/// and every buffer is converted in place (PyTorch's <c>param.data = fn(param)</c>), so each keeps its identity and
/// whatever holds it (a field, an optimizer's parameter list) sees the moved data.
/// </summary>
/// <remarks>
/// As in PyTorch, a dtype applies only to floating-point tensors (the Int64 <c>num_batches_tracked</c> stays Int64),
/// and gradients follow their parameters (moved and converted, not dropped). An optimizer made before the move keeps
/// working: its state buffers follow their parameters at the next step (see <c>Optim.Optimizer</c>). A graph recorded
/// before the move must not be run backward after it.
/// </remarks>
public static class ModuleConversions
{
    /// <summary>Moves the module's parameters, gradients and buffers to <paramref name="device"/>; returns the module.</summary>
    public static TModule To<TModule>(this TModule module, Device device) where TModule : Module
    {
        BackendRegistry.For(device); // fail before moving anything when the device has no backend
        Convert(module, t => t.To(device));
        return module;
    }

    /// <summary>Converts the module's floating-point parameters, gradients and buffers to <paramref name="dtype"/>; returns the module.</summary>
    public static TModule To<TModule>(this TModule module, DType dtype) where TModule : Module
    {
        CheckFloating(dtype);
        Convert(module, t => t.DType.IsFloatingPoint() ? t.To(dtype) : t);
        return module;
    }

    /// <summary>Both moves at once: floating-point tensors to <paramref name="dtype"/>, every tensor to <paramref name="device"/>.</summary>
    public static TModule To<TModule>(this TModule module, Device device, DType dtype) where TModule : Module
    {
        CheckFloating(dtype);
        BackendRegistry.For(device);
        Convert(module, t => t.DType.IsFloatingPoint() ? t.To(device, dtype) : t.To(device));
        return module;
    }

    private static void CheckFloating(DType dtype)
    {
        if (!dtype.IsFloatingPoint())
            throw new ArgumentException($"Module.To: only floating-point dtypes are accepted (as in PyTorch); got {dtype.DisplayName()}.", nameof(dtype));
    }

    private static void Convert(Module module, Func<Tensor, Tensor> convert)
    {
        using var _ = Autograd.NoGrad();
        foreach (var parameter in module.Parameters())
        {
            Replace(parameter, convert);
            if (parameter.Grad is { } grad) Replace(grad, convert);
        }
        foreach (var buffer in module.Buffers()) Replace(buffer, convert);
    }

    private static void Replace(Tensor tensor, Func<Tensor, Tensor> convert)
    {
        var converted = convert(tensor.Detach());
        if (!ReferenceEquals(converted.Storage, tensor.Storage)) tensor.ReplaceData(converted);
    }
}
