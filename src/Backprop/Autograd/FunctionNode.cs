namespace Backprop;

/// <summary>Runs one call of a custom function: forward without recording, then the node that gives it a backward.</summary>
internal static class FunctionCall
{
    public static Tensor[] Run(object function, Tensor[] inputs, Func<FunctionContext, Tensor[]> forward,
        Func<FunctionContext, Tensor[], Tensor?[]> backward, Func<FunctionContext, Tensor?[], Tensor?[]> jvp)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        string name = FunctionNode.NameOf(function.GetType());
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i] is null) throw new ArgumentNullException(nameof(inputs), $"{name}: input {i} is null.");
        bool recording = Autograd.IsRecording(inputs);
        var needs = inputs.Select(t => recording && Autograd.IsGradEnabled && t.RequiresGrad).ToArray();
        var node = recording ? new FunctionNode(function, name, inputs, backward, jvp) : null;
        var ctx = new FunctionContext(node, needs);

        Tensor[] outputs;
        using (Autograd.NoGrad())
        using (ForwardAD.Suspend())
            outputs = forward(ctx); // its ops carry no tangents: the function's own Jvp gives the outputs'
        if (outputs is null || outputs.Length == 0 || Array.IndexOf(outputs, null) >= 0)
            throw new InvalidOperationException($"{name}.Forward must return at least one tensor and no nulls.");
        if (node is null) return outputs;

        // An output that is an input, or that already has history, gets an alias of its own: the node must not
        // take over a tensor the caller also holds as something else.
        var result = new Tensor[outputs.Length];
        for (int i = 0; i < outputs.Length; i++)
            result[i] = outputs[i].RequiresGrad || Array.Exists(inputs, x => ReferenceEquals(x, outputs[i])) ? outputs[i].Detach() : outputs[i];
        var differentiable = Enumerable.Range(0, outputs.Length)
            .Where(i => outputs[i].DType.IsFloatingPoint() && !ctx.NonDifferentiable.Contains(outputs[i]))
            .ToArray();
        node.Bind(ctx, result, differentiable);
        return result;
    }
}

/// <summary>
/// The backward node of one custom function call. With one differentiable output the node is that output's producer.
/// With several, the engine's one-gradient-per-node contract is kept by a flat vector: each output gets a
/// <see cref="FunctionOutputNode"/> that places its gradient in its own segment of a vector of zeros, the engine sums
/// those vectors into this node, and this node cuts the sum back into one gradient per output.
/// </summary>
internal sealed class FunctionNode : Node
{
    private readonly object _function;
    private readonly string _name;
    private readonly Func<FunctionContext, Tensor[], Tensor?[]> _backward;
    private readonly Func<FunctionContext, Tensor?[], Tensor?[]> _jvp;
    private Tensor[]? _binding;
    private readonly int[][] _inputSizes;
    private readonly DType[] _inputDTypes;
    private FunctionContext? _ctx;
    private int[][] _outputSizes = [];
    private DType[] _outputDTypes = [];
    private int[] _differentiable = [];
    private int[] _offsets = [];
    private int _savedCount;

    public FunctionNode(object function, string name, Tensor[] inputs, Func<FunctionContext, Tensor[], Tensor?[]> backward,
        Func<FunctionContext, Tensor?[], Tensor?[]> jvp) : base(inputs)
    {
        _jvp = jvp;
        _function = function;
        _name = name;
        _backward = backward;
        _inputSizes = inputs.Select(t => t.Sizes).ToArray();
        _inputDTypes = inputs.Select(t => t.DType).ToArray();
    }

    /// <summary>"Cube" for a function class Cube (or CubeFunction), shown as CubeBackward.</summary>
    internal static string NameOf(Type type) =>
        type.Name.EndsWith("Function", StringComparison.Ordinal) && type.Name.Length > "Function".Length ? type.Name[..^"Function".Length] : type.Name;

    public override string Name => _name + "Backward";

    internal override bool IsOnceDifferentiable => _function is IOnceDifferentiable;

    internal override string OnceDifferentiableNote => OnceDifferentiableBackward.Reason(_function.GetType());

    internal void SaveTensors(Tensor?[] tensors)
    {
        Save(tensors);
        _savedCount = tensors.Length;
    }

    internal Tensor?[] SavedTensorList()
    {
        if (Released) throw FreedGraphError();
        var list = new Tensor?[_savedCount];
        for (int i = 0; i < _savedCount; i++) list[i] = HasSaved(i) ? Saved(i) : null;
        return list;
    }

    /// <summary>Makes this node the producer of the differentiable outputs (directly, or through one output node each).</summary>
    internal void Bind(FunctionContext ctx, Tensor[] outputs, int[] differentiable)
    {
        _ctx = ctx;
        _outputSizes = outputs.Select(t => t.Sizes).ToArray();
        _outputDTypes = outputs.Select(t => t.DType).ToArray();
        _differentiable = differentiable;
        if (differentiable.Length == 0) return;
        // Attaching runs the forward-mode rule (when inputs are dual), which sets the tangent of every output.
        _binding = outputs;
        if (differentiable.Length == 1)
        {
            Attach(outputs[differentiable[0]]);
            _binding = null;
            return;
        }
        _offsets = new int[differentiable.Length + 1];
        for (int k = 0; k < differentiable.Length; k++) _offsets[k + 1] = _offsets[k] + outputs[differentiable[k]].NumElements;
        var flatDType = differentiable.Select(i => outputs[i].DType).Distinct().Count() == 1 ? outputs[differentiable[0]].DType : DType.Float64;
        var flat = Attach(Tensor.Zeros(Shape.Wrap([_offsets[^1]]), flatDType, outputs[differentiable[0]].Device));
        for (int k = 0; k < differentiable.Length; k++)
            new FunctionOutputNode(flat, Name, differentiable[k], _offsets[k], _offsets[^1]).Attach(outputs[differentiable[k]]);
        _binding = null;
    }

    /// <summary>
    /// The user's forward-mode rule. With one differentiable output its tangent is returned for the engine to attach;
    /// with several, this runs when the flat vector is attached and returns the flat vector's tangent, which each
    /// <see cref="FunctionOutputNode"/> cuts its output's tangent from.
    /// </summary>
    protected internal override Tensor? Jvp(Tensor[] inputs, Tensor?[] tangents, Tensor output)
    {
        var outputs = _binding ?? throw new InvalidOperationException($"{Name}: the forward-mode rule runs only while the outputs are bound.");
        var outputTangents = _jvp(_ctx!, tangents)
            ?? throw new InvalidOperationException($"{_name}.Jvp returned null; return one tangent (or null) per output.");
        if (outputTangents.Length != outputs.Length)
            throw new InvalidOperationException($"{_name}.Jvp returned {outputTangents.Length} tangents for {outputs.Length} outputs; return one (or null) per output.");
        if (_differentiable.Length == 1) return outputTangents[_differentiable[0]];
        // The flat vector's tangent: each output's in its segment (zeros for a zero one); each output node cuts its own out.
        var parts = new Tensor[_differentiable.Length];
        for (int k = 0; k < parts.Length; k++)
        {
            int i = _differentiable[k];
            if (outputTangents[i] is { } t && !t.Sizes.AsSpan().SequenceEqual(outputs[i].Sizes))
                throw new ShapeMismatchException($"{_name}.Jvp", $"the tangent of output {i} has shape {t.Shape}, but the output has shape {outputs[i].Shape}");
            parts[k] = (outputTangents[i] ?? Tensor.ZerosLike(outputs[i])).Reshape(-1).To(output.DType);
        }
        return Tensor.Cat(parts);
    }

    protected internal override void Backward(Tensor gradOutput, Tensor?[] gradInputs)
    {
        var ctx = _ctx ?? throw new InvalidOperationException($"{Name}: the function's forward did not finish.");
        var gradOutputs = new Tensor[_outputSizes.Length];
        if (_differentiable.Length == 1) gradOutputs[_differentiable[0]] = gradOutput;
        else
            for (int k = 0; k < _differentiable.Length; k++)
            {
                int i = _differentiable[k];
                gradOutputs[i] = gradOutput.Slice(0, _offsets[k], _offsets[k + 1]).Reshape(_outputSizes[i]).To(_outputDTypes[i]);
            }
        for (int i = 0; i < gradOutputs.Length; i++)
            gradOutputs[i] ??= Tensor.Zeros(Shape.Wrap(_outputSizes[i]), _outputDTypes[i], gradOutput.Device);

        var grads = _backward(ctx, gradOutputs)
            ?? throw new InvalidOperationException($"{_name}.Backward returned null; return one gradient (or null) per input.");
        if (grads.Length != InputCount)
            throw new InvalidOperationException($"{_name}.Backward returned {grads.Length} gradients for {InputCount} inputs; return one (or null) per input.");
        for (int i = 0; i < grads.Length; i++)
        {
            if (!NeedsGrad(i) || grads[i] is not { } g) continue;
            var sizes = _inputSizes[i];
            if (!g.Sizes.AsSpan().SequenceEqual(sizes))
            {
                if (!BroadcastsTo(sizes, g.Sizes))
                    throw new ShapeMismatchException($"{_name}.Backward",
                        $"the gradient of input {i} has shape {g.Shape}, but the input has shape {Shape.Wrap(sizes)}");
                g = g.SumTo(sizes);
            }
            if (g.DType != _inputDTypes[i]) g = g.To(_inputDTypes[i]);
            gradInputs[i] = g;
        }
    }

    private static bool BroadcastsTo(int[] sizes, int[] target)
    {
        if (sizes.Length > target.Length) return false;
        int lead = target.Length - sizes.Length;
        for (int d = 0; d < sizes.Length; d++)
            if (sizes[d] != target[lead + d] && sizes[d] != 1) return false;
        return true;
    }
}

/// <summary>
/// One output of a custom function with several differentiable outputs: sends its gradient to the function's node as
/// a flat vector, zero outside this output's segment (see <see cref="FunctionNode"/>).
/// </summary>
internal sealed class FunctionOutputNode(Tensor flat, string function, int output, int offset, int total) : Node(flat)
{
    public override string Name => $"{function}Output{output}";

    protected internal override void Backward(Tensor gradOutput, Tensor?[] gradInputs)
    {
        var flatDType = Next[0]!.OutputDType;
        var g = gradOutput.Reshape(-1).To(flatDType);
        int after = total - offset - g.NumElements;
        var parts = new List<Tensor>(3);
        if (offset > 0) parts.Add(Tensor.Zeros(Shape.Wrap([offset]), flatDType, g.Device));
        parts.Add(g);
        if (after > 0) parts.Add(Tensor.Zeros(Shape.Wrap([after]), flatDType, g.Device));
        gradInputs[0] = parts.Count == 1 ? g : Tensor.Cat(parts);
    }

    protected internal override Tensor? Jvp(Tensor[] inputs, Tensor?[] tangents, Tensor output) =>
        tangents[0]?.Slice(0, offset, offset + output.NumElements).Reshape(output.Sizes);
}
