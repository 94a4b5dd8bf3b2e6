namespace Backprop.Nn;

/// <summary>
/// The gradient of each example's loss, one per example, from one forward and one backward pass over the batch (as
/// Opacus computes them for differential privacy and for gradient statistics): the forward pass keeps each
/// <see cref="Linear"/> and <see cref="Conv2d"/> layer's input a, the backward pass gives the gradient g of the loss
/// with respect to the layer's output, and the weight gradient of example n is gₙᵀ·aₙ (over the rows of a Linear, the
/// windows of a convolution), its bias gradient the sum of gₙ. Layers that mix examples (batch norm) have no
/// per-example gradient, and other layers with parameters are not supported: both are errors naming the layer.
/// </summary>
public static class PerSampleGradients
{
    /// <summary>
    /// Per-example gradients of every trainable parameter of <paramref name="model"/>, by parameter name, each of shape
    /// [N, ..parameter shape] for a batch of N examples (dim 0 of <paramref name="input"/>). The parameters' <c>Grad</c>
    /// are left untouched.
    /// </summary>
    /// <param name="loss">The batch loss from the model's output: a one-element tensor, the mean or sum over examples of their losses.</param>
    /// <param name="reduction">How <paramref name="loss"/> reduces over the batch: with Mean, each example's share is scaled back by N.</param>
    public static IReadOnlyDictionary<string, Tensor> Compute(Module<Tensor, Tensor> model, Tensor input, Func<Tensor, Tensor> loss,
        Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(loss);
        if (reduction == Reduction.None)
            throw new ArgumentException("PerSampleGradients: the loss must be reduced over the batch (Mean or Sum) to one element.");
        if (input.Rank == 0) throw new ArgumentException("PerSampleGradients: the input needs a batch dimension (dim 0).");
        int batch = input.Size(0);

        var layers = new List<(string Name, Module Layer)>();
        foreach (var (name, module) in model.NamedModules())
        {
            bool trainable = module.Parameters(recurse: false).Any(p => p.RequiresGrad);
            if (!trainable) continue;
            if (module is Linear or Conv2d) layers.Add((name, module));
            else
                throw new NotSupportedException(
                    $"PerSampleGradients: '{(name.Length == 0 ? "the model" : name)}' ({module.GetType().Name}) has trainable parameters; " +
                    "per-example gradients are computed for Linear and Conv2d layers" +
                    (module is BatchNormBase ? ", and batch norm mixes the examples of a batch, so its per-example gradient is not defined (use GroupNorm or LayerNorm)." : "."));
        }

        var calls = new List<(string Name, Module Layer, Tensor Input, Tensor Output)>();
        var handles = new List<RemovableHandle>();
        try
        {
            foreach (var (name, layer) in layers)
            {
                var module = (Module<Tensor, Tensor>)layer;
                handles.Add(module.RegisterForwardHook((m, x, y) =>
                {
                    if (Autograd.IsGradEnabled && y.RequiresGrad) calls.Add((name, layer, x.Detach(), y));
                }));
            }
            Tensor value;
            using (Autograd.EnableGrad()) value = loss(model.Forward(input));
            if (value.NumElements != 1)
                throw new ArgumentException($"PerSampleGradients: the loss must have one element (reduced over the batch); it has shape {value.Shape}.");
            var outputGrads = calls.Count == 0 ? Array.Empty<Tensor?>() : Autograd.Grad([value], calls.Select(c => c.Output).ToArray(), allowUnused: true);
            double scale = reduction == Reduction.Mean ? batch : 1;

            var result = new Dictionary<string, Tensor>();
            using (Autograd.NoGrad())
                for (int i = 0; i < calls.Count; i++)
                {
                    if (outputGrads[i] is not { } g) continue;
                    var (name, layer, x, _) = calls[i];
                    if (g.Size(0) != batch)
                        throw new InvalidOperationException($"PerSampleGradients: '{name}' produced {g.Size(0)} rows for a batch of {batch}; its dim 0 must be the batch.");
                    var grads = layer is Linear ? LinearGradients((Linear)layer, x, g * scale) : ConvGradients((Conv2d)layer, x, g * scale);
                    foreach (var (parameter, perSample) in grads)
                    {
                        string key = name.Length == 0 ? parameter : $"{name}.{parameter}";
                        result[key] = result.TryGetValue(key, out var earlier) ? earlier + perSample : perSample;
                    }
                }
            return result;
        }
        finally
        {
            foreach (var handle in handles) handle.Dispose();
        }
    }

    /// <summary>weight: Σₜ gₙₜ ⊗ aₙₜ over the rows t of each example [N, out, in]; bias: Σₜ gₙₜ [N, out].</summary>
    private static IEnumerable<(string, Tensor)> LinearGradients(Linear layer, Tensor a, Tensor g)
    {
        int batch = a.Size(0);
        var rowsA = a.Reshape(batch, -1, layer.InFeatures);
        var rowsG = g.Reshape(batch, -1, layer.OutFeatures);
        if (layer.Weight.RequiresGrad) yield return ("weight", rowsG.Transpose(1, 2).MatMul(rowsA).To(layer.Weight.DType));
        if (layer.Bias is { RequiresGrad: true } bias) yield return ("bias", rowsG.Sum(1).To(bias.DType));
    }

    /// <summary>
    /// weight: gₙ [O, L] times the windows of aₙ [L, C·kh·kw] (im2col, built from strided slices of the padded input),
    /// per group; bias: gₙ summed over the output positions.
    /// </summary>
    private static IEnumerable<(string, Tensor)> ConvGradients(Conv2d layer, Tensor a, Tensor g)
    {
        int batch = a.Size(0), channels = layer.InChannels, groups = layer.Groups;
        int outH = g.Size(2), outW = g.Size(3);
        var (kh, kw) = (layer.KernelSize.Height, layer.KernelSize.Width);
        if (layer.Weight.RequiresGrad)
        {
            var padded = ZeroPad(a, layer.Padding);
            var windows = new List<Tensor>(kh * kw);
            for (int i = 0; i < kh; i++)
                for (int j = 0; j < kw; j++)
                {
                    int top = i * layer.Dilation.Height, left = j * layer.Dilation.Width;
                    windows.Add(padded
                        .Slice(2, top, top + layer.Stride.Height * (outH - 1) + 1, layer.Stride.Height)
                        .Slice(3, left, left + layer.Stride.Width * (outW - 1) + 1, layer.Stride.Width));
                }
            // [N, C, kh·kw, OH, OW] → [N, groups, C/groups · kh·kw, L]
            var columns = Tensor.Stack(windows, dim: 2).Reshape(batch, groups, channels / groups * kh * kw, outH * outW);
            var outputs = g.Reshape(batch, groups, layer.OutChannels / groups, outH * outW);
            var weight = outputs.MatMul(columns.Transpose(2, 3)).Reshape([batch, .. layer.Weight.Sizes]);
            yield return ("weight", weight.To(layer.Weight.DType));
        }
        if (layer.Bias is { RequiresGrad: true } bias) yield return ("bias", g.Sum([2, 3]).To(bias.DType));
    }

    private static Tensor ZeroPad(Tensor x, Size2d padding)
    {
        if (padding.Height > 0)
        {
            var rows = Tensor.Zeros(new Shape(x.Size(0), x.Size(1), padding.Height, x.Size(3)), x.DType, x.Device);
            x = Tensor.Cat([rows, x, rows], dim: 2);
        }
        if (padding.Width > 0)
        {
            var cols = Tensor.Zeros(new Shape(x.Size(0), x.Size(1), x.Size(2), padding.Width), x.DType, x.Device);
            x = Tensor.Cat([cols, x, cols], dim: 3);
        }
        return x;
    }
}
