namespace Backprop.Nn;

public static partial class Functional
{
    /// <summary>
    /// Inverted dropout: while <paramref name="training"/>, zeroes each element with probability <paramref name="p"/>
    /// and scales the rest by 1/(1 − p), so the expected output equals the input and evaluation needs no rescaling.
    /// Outside training it returns the input unchanged.
    /// </summary>
    /// <param name="generator">Draws the mask; <see cref="Generator.Default"/> when null.</param>
    public static Tensor Dropout(Tensor input, double p = 0.5, bool training = true, Generator? generator = null)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), $"Dropout: p must be in [0, 1]; got {p}.");
        if (!training || p == 0) return input;
        if (!input.DType.IsFloatingPoint()) throw new ArgumentException($"Dropout: needs a floating-point input; got {input.DType.DisplayName()}.");
        if (p == 1) return input * 0.0;
        return input * DropoutMask(input, p, generator ?? Generator.Default);
    }

    /// <summary>0 with probability p, else 1/(1 − p), in the input's dtype and shape, on its device (drawn on the host, uploaded once).</summary>
    private static Tensor DropoutMask(Tensor input, double p, Generator generator)
    {
        int n = input.NumElements;
        double scale = 1 / (1 - p);
        Storage storage;
        if (input.DType == DType.Float32)
        {
            var mask = new float[n];
            DrawMask(generator, p, (float)scale, mask);
            storage = input.Backend.Upload<float>(mask);
        }
        else
        {
            var mask = new double[n];
            DrawMask(generator, p, scale, mask);
            storage = input.Backend.Upload<double>(mask);
        }
        return new Tensor(storage, input.Shape.ToArray());
    }

    /// <summary>
    /// Each element 0 with probability p, else <paramref name="kept"/>: one uniform draw per element, in order. The draws
    /// come in chunks, so a thread-safe generator (<see cref="Generator.Default"/>) takes its lock once a chunk, not once
    /// an element; the values are those of one NextDouble per element.
    /// </summary>
    internal static void DrawMask<T>(Generator generator, double p, T kept, Span<T> mask) where T : INumber<T>
    {
        Span<double> uniforms = stackalloc double[256];
        for (int start = 0; start < mask.Length; start += uniforms.Length)
        {
            var chunk = uniforms[..Math.Min(uniforms.Length, mask.Length - start)];
            generator.FillUniform(chunk);
            for (int i = 0; i < chunk.Length; i++) mask[start + i] = chunk[i] < p ? T.Zero : kept;
        }
    }

    /// <summary>
    /// Rows of <paramref name="weight"/> ([num, dim]) picked by Int64 <paramref name="indices"/> of any shape; the result
    /// has shape [..indices, dim]. The row at <paramref name="paddingIndex"/> is returned as is but gets no gradient.
    /// </summary>
    public static Tensor Embedding(Tensor indices, Tensor weight, long? paddingIndex = null)
    {
        if (indices.DType != DType.Int64)
            throw new ArgumentException($"Embedding: indices must be int64; got {indices.DType.DisplayName()}.");
        if (weight.Rank != 2)
            throw new ShapeMismatchException("Embedding", $"the weight must be [numEmbeddings, dim]; got {weight.Shape}");
        var flat = indices.Reshape(-1);
        var rows = weight.IndexSelect(0, flat);
        if (paddingIndex is { } pad && rows.RequiresGrad)
        {
            if (pad < 0) pad += weight.Size(0);
            // The padding row's value flows forward, its gradient does not: Where picks the detached copy there.
            var learn = flat.Ne(pad).Unsqueeze(1);
            rows = Tensor.Where(learn, rows, rows.Detach());
        }
        return rows.Reshape([.. indices.Sizes, weight.Size(1)]);
    }
}
