namespace Backprop.Nn;

/// <summary>Takes the tensors out of a module's input or output value and puts replacements back (for backward hooks).</summary>
internal static class ModuleArguments<T>
{
    private static readonly Func<T, Tensor?[]>? FlattenFunction;
    private static readonly Func<T, Tensor?[], T>? RebuildFunction;

    static ModuleArguments()
    {
        if (typeof(T) == typeof(Tensor))
        {
            FlattenFunction = v => [(Tensor?)(object?)v];
            RebuildFunction = (_, t) => (T)(object)t[0]!;
        }
        else if (typeof(T) == typeof((Tensor, Tensor)))
        {
            FlattenFunction = v =>
            {
                var (a, b) = ((Tensor, Tensor))(object)v!;
                return [a, b];
            };
            RebuildFunction = (_, t) => (T)(object)(t[0]!, t[1]!);
        }
        else if (typeof(T) == typeof((Tensor, Tensor, Tensor)))
        {
            FlattenFunction = v =>
            {
                var (a, b, c) = ((Tensor, Tensor, Tensor))(object)v!;
                return [a, b, c];
            };
            RebuildFunction = (_, t) => (T)(object)(t[0]!, t[1]!, t[2]!);
        }
        else if (typeof(T) == typeof(Tensor[]))
        {
            FlattenFunction = v => [.. (Tensor[])(object)v!];
            RebuildFunction = (_, t) => (T)(object)t.Select(x => x!).ToArray();
        }
    }

    public static bool Supported => FlattenFunction is not null;

    public static Tensor?[] Flatten(T value) => FlattenFunction!(value);

    public static T Rebuild(T original, Tensor?[] tensors) => RebuildFunction!(original, tensors);
}
