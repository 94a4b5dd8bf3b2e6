namespace Backprop;

public partial class Tensor
{
    private static Tensor Filled(Shape shape, double value, DType dtype, Device? device, bool requiresGrad)
    {
        var backend = BackendFor(device);
        var dims = shape.ToArray();
        var t = new Tensor(backend.Allocate(dtype, Shape.CountElements(dims), zeroed: value == 0), dims);
        if (value != 0) backend.Fill(t.Strided, value);
        if (requiresGrad) t.RequiresGrad = true;
        return t;
    }

    public static Tensor Zeros(params int[] shape) => Zeros(new Shape(shape));

    public static Tensor Zeros(Shape shape, DType dtype = DType.Float32, Device? device = null, bool requiresGrad = false) =>
        Filled(shape, 0, dtype, device, requiresGrad);

    public static Tensor Ones(params int[] shape) => Ones(new Shape(shape));

    public static Tensor Ones(Shape shape, DType dtype = DType.Float32, Device? device = null, bool requiresGrad = false) =>
        Filled(shape, 1, dtype, device, requiresGrad);

    public static Tensor Full(Shape shape, double value, DType dtype = DType.Float32, Device? device = null, bool requiresGrad = false) =>
        Filled(shape, value, dtype, device, requiresGrad);

    public static Tensor ZerosLike(Tensor t) => Zeros(t.Shape, t.DType, t.Device);

    public static Tensor OnesLike(Tensor t) => Ones(t.Shape, t.DType, t.Device);

    public static Tensor FullLike(Tensor t, double value) => Full(t.Shape, value, t.DType, t.Device);

    /// <summary>A rank-0 tensor holding one value.</summary>
    public static Tensor Scalar(double value, DType dtype = DType.Float32, Device? device = null, bool requiresGrad = false) =>
        Filled(Shape.Scalar, value, dtype, device, requiresGrad);

    /// <summary>0, 1, …, up to but excluding <paramref name="end"/>.</summary>
    public static Tensor Arange(double end, DType dtype = DType.Float32, Device? device = null) => Arange(0, end, 1, dtype, device);

    /// <summary>start, start + step, …, up to but excluding <paramref name="end"/>.</summary>
    public static Tensor Arange(double start, double end, double step = 1, DType dtype = DType.Float32, Device? device = null)
    {
        if (step == 0 || double.IsNaN(step)) throw new ArgumentException("Arange: step must be non-zero.");
        int count = (int)Math.Max(0, Math.Ceiling((end - start) / step));
        var values = new double[count];
        for (int i = 0; i < count; i++) values[i] = start + i * step;
        return FromHost(values, [count], dtype, device);
    }

    /// <summary><paramref name="steps"/> evenly spaced values from start to end, both included.</summary>
    public static Tensor Linspace(double start, double end, int steps, DType dtype = DType.Float32, Device? device = null)
    {
        if (steps < 0) throw new ArgumentException("Linspace: steps must be non-negative.");
        var values = new double[steps];
        double delta = steps > 1 ? (end - start) / (steps - 1) : 0;
        for (int i = 0; i < steps; i++) values[i] = i == steps - 1 && steps > 1 ? end : start + i * delta;
        return FromHost(values, [steps], dtype, device);
    }

    /// <summary>The n×n identity matrix.</summary>
    public static Tensor Eye(int n, DType dtype = DType.Float32, Device? device = null)
    {
        var values = new double[n * n];
        for (int i = 0; i < n; i++) values[i * n + i] = 1;
        return FromHost(values, [n, n], dtype, device);
    }

    /// <summary>Uniform samples in [0, 1).</summary>
    public static Tensor Rand(params int[] shape) => Rand(new Shape(shape));

    public static Tensor Rand(Shape shape, DType dtype = DType.Float32, Generator? generator = null, Device? device = null, bool requiresGrad = false) =>
        Uniform(shape, 0, 1, dtype, generator, device, requiresGrad);

    /// <summary>Uniform samples in [low, high).</summary>
    public static Tensor Uniform(Shape shape, double low, double high, DType dtype = DType.Float32, Generator? generator = null,
        Device? device = null, bool requiresGrad = false)
    {
        var values = new double[shape.NumElements];
        (generator ?? Generator.Default).FillUniform(values, low, high);
        return FromHost(values, shape.ToArray(), dtype, device, requiresGrad);
    }

    /// <summary>Standard normal samples.</summary>
    public static Tensor Randn(params int[] shape) => Randn(new Shape(shape));

    public static Tensor Randn(Shape shape, DType dtype = DType.Float32, Generator? generator = null, Device? device = null, bool requiresGrad = false) =>
        Normal(shape, 0, 1, dtype, generator, device, requiresGrad);

    /// <summary>Normal samples with the given mean and standard deviation.</summary>
    public static Tensor Normal(Shape shape, double mean, double std, DType dtype = DType.Float32, Generator? generator = null,
        Device? device = null, bool requiresGrad = false)
    {
        var values = new double[shape.NumElements];
        (generator ?? Generator.Default).FillNormal(values, mean, std);
        return FromHost(values, shape.ToArray(), dtype, device, requiresGrad);
    }

    /// <summary>Uniform integers in [low, high), as Int64.</summary>
    public static Tensor RandInt(long low, long high, Shape shape, Generator? generator = null, Device? device = null)
    {
        if (high <= low) throw new ArgumentException($"RandInt: high ({high}) must exceed low ({low}).");
        var values = new long[shape.NumElements];
        (generator ?? Generator.Default).FillInt64(values, low, high - low);
        return FromArray(values, shape.ToArray(), device: device);
    }

    /// <summary>
    /// Reseeds <see cref="Generator.Default"/>, which factories and layer initialisers use unless given another. What
    /// follows is repeatable only if nothing else draws from the default meanwhile (another thread, a test running in
    /// parallel); pass a <see cref="Generator"/> of your own where that matters.
    /// </summary>
    public static void ManualSeed(ulong seed) => Generator.Default.Seed(seed);

    /// <summary>
    /// A tensor holding a copy of <paramref name="data"/> (float, double, long, int or bool; int becomes Int64, PyTorch's
    /// integer default, unless Int32 is asked for with the dtype overload), with the
    /// given shape, or 1-D when none is given.
    /// </summary>
    public static Tensor FromArray<T>(T[] data, params int[] shape) where T : unmanaged => FromArray(data, shape, null, null);

    /// <summary>A tensor from a (possibly multi-dimensional) array, e.g. <c>new float[,] { { 1, 2 }, { 3, 4 } }</c>.</summary>
    public static Tensor FromArray(Array data, DType? dtype = null) => FromArray(data, dtype, device: null);

    private static Tensor FromArray(Array data, DType? dtype, Device? device)
    {
        var dims = new int[data.Rank];
        for (int d = 0; d < data.Rank; d++) dims[d] = data.GetLength(d);
        var element = data.GetType().GetElementType()!;
        if (element == typeof(float)) return FromArray(Flatten<float>(data), dims, dtype, device);
        if (element == typeof(double)) return FromArray(Flatten<double>(data), dims, dtype, device);
        if (element == typeof(long)) return FromArray(Flatten<long>(data), dims, dtype, device);
        if (element == typeof(int)) return FromArray(Flatten<int>(data), dims, dtype, device);
        if (element == typeof(bool)) return FromArray(Flatten<bool>(data), dims, dtype, device);
        if (element == typeof(Half)) return FromArray(Flatten<Half>(data), dims, dtype, device);
        if (element == typeof(BFloat16)) return FromArray(Flatten<BFloat16>(data), dims, dtype, device);
        throw new NotSupportedException($"FromArray: arrays of {element.Name} are not supported; use float, double, long, int, bool, Half or BFloat16.");
    }

    private static T[] Flatten<T>(Array data)
    {
        var flat = new T[data.Length];
        int i = 0;
        foreach (T v in data) flat[i++] = v;
        return flat;
    }

    /// <summary>A tensor from host values, converted to <paramref name="dtype"/>.</summary>
    internal static Tensor FromHost(double[] values, int[] dims, DType dtype, Device? device, bool requiresGrad = false)
    {
        var backend = BackendFor(device);
        Storage storage = dtype switch
        {
            DType.Float64 => backend.Upload<double>(values),
            DType.Float32 => backend.Upload<float>(Array.ConvertAll(values, v => (float)v)),
            DType.Int64 => backend.Upload<long>(Array.ConvertAll(values, v => (long)v)),
            DType.Int32 => backend.Upload<int>(Array.ConvertAll(values, v => (int)v)),
            DType.Bool => backend.Upload<bool>(Array.ConvertAll(values, v => v != 0)),
            DType.Float16 => backend.Upload<Half>(Array.ConvertAll(values, v => (Half)v)),
            DType.BFloat16 => backend.Upload<BFloat16>(Array.ConvertAll(values, BFloat16.FromDouble)),
            _ => throw new NotSupportedException($"No tensor of dtype {dtype.DisplayName()} can be made from host values."),
        };
        var t = new Tensor(storage, dims);
        if (requiresGrad) t.RequiresGrad = true;
        return t;
    }
}
