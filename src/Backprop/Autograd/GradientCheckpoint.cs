using Backprop.Nn;

namespace Backprop;

/// <summary>
/// Gradient checkpointing (torch.utils.checkpoint, non-reentrant form): runs a function so that the tensors its ops
/// save for backward are not kept, but recomputed by running it again when backward reaches them. Memory for compute:
/// a checkpointed region holds only its inputs between the forward and the backward pass.
/// </summary>
/// <remarks>
/// <para>
/// The forward pass records the graph as usual (so parameter gradients, tensor hooks, <c>Autograd.Grad</c>,
/// <c>retainGraph</c> and <c>createGraph</c> all work unchanged); only what the region's ops save is replaced by
/// handles. The first handle fetched in a backward pass reruns the function from the same inputs, under the same
/// generator states and autocast mode, and each handle takes its recomputed tensor, which the backward frees as soon
/// as the node that needed it has run. Tensors that existed before the region (its inputs, parameters) are kept as
/// they are: something else holds them anyway.
/// </para>
/// <para>
/// Dropout inside a region draws the same mask twice: <see cref="Generator.Default"/>'s state is saved when the region
/// starts and replayed for the recomputation; pass any other generator the function draws from. Checkpoints nest (an
/// inner region is recomputed from the outer one's recomputation). Batch norm does not update its running statistics a
/// second time while a region is recomputed (<see cref="IsRecomputing"/>). Forward hooks of modules in the region run
/// again during the recomputation.
/// </para>
/// </remarks>
public static class GradientCheckpoint
{
    [ThreadStatic] private static int t_recomputeDepth;

    internal static int RecomputeDepth
    {
        get => t_recomputeDepth;
        set => t_recomputeDepth = value;
    }

    /// <summary>Whether a checkpointed region is being recomputed on this thread (layers with side effects skip them).</summary>
    public static bool IsRecomputing => t_recomputeDepth > 0;

    /// <summary>Runs <paramref name="function"/> on <paramref name="input"/> without keeping its inner activations for backward.</summary>
    /// <param name="generators">Generators the function draws from besides <see cref="Generator.Default"/>, whose state is replayed too.</param>
    public static Tensor Checkpoint(Func<Tensor, Tensor> function, Tensor input, params Generator[] generators)
    {
        ArgumentNullException.ThrowIfNull(function);
        return Checkpoint(inputs => function(inputs[0]), [input], generators);
    }

    /// <summary>Runs a module's forward pass on <paramref name="input"/> without keeping its inner activations for backward.</summary>
    public static Tensor Checkpoint(Module<Tensor, Tensor> module, Tensor input, params Generator[] generators)
    {
        ArgumentNullException.ThrowIfNull(module);
        return Checkpoint(x => module.Forward(x), input, generators);
    }

    /// <summary>Runs <paramref name="function"/> on several inputs without keeping its inner activations for backward.</summary>
    public static Tensor Checkpoint(Func<Tensor[], Tensor> function, IReadOnlyList<Tensor> inputs, params Generator[] generators)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(inputs);
        if (!Autograd.IsGradEnabled) return function([.. inputs]);
        if (IsRecomputing && TensorSaver.Current is not null)
        {
            // Nested in a region being recomputed: the outer region wants only what it kept in its forward pass, the
            // inputs of this one; this region's own saves are recomputed later from them, if backward reaches it.
            foreach (var input in inputs) TensorSaver.Current!.Pack(input);
            var discard = new CheckpointFrame.Discard();
            discard.Enter();
            try
            {
                return function([.. inputs]);
            }
            finally
            {
                discard.Leave();
            }
        }
        var frame = new CheckpointFrame(function, inputs, [Generator.Default, .. generators.Where(g => g != Generator.Default).Distinct()]);
        frame.Enter();
        try
        {
            return function([.. inputs]);
        }
        finally
        {
            frame.Leave();
            frame.EndForward();
        }
    }

    /// <summary>
    /// Runs <paramref name="sequential"/> on <paramref name="input"/> in <paramref name="segments"/> consecutive segments,
    /// each but the last checkpointed (torch.utils.checkpoint.checkpoint_sequential): between the passes only the
    /// segments' inputs and the last segment's activations are kept, and backward recomputes one segment at a time.
    /// </summary>
    /// <param name="segments">How many segments to split the layers into (1 ≤ segments ≤ layer count); √(layers) minimises the peak.</param>
    public static Tensor CheckpointSequential(Sequential sequential, int segments, Tensor input, params Generator[] generators)
    {
        ArgumentNullException.ThrowIfNull(sequential);
        int count = sequential.Count;
        if (segments < 1 || segments > Math.Max(count, 1))
            throw new ArgumentOutOfRangeException(nameof(segments), $"CheckpointSequential: segments must be in [1, {Math.Max(count, 1)}] for {count} layers; got {segments}.");
        var x = input;
        for (int s = 0; s < segments; s++)
        {
            int start = s * count / segments, end = (s + 1) * count / segments;
            x = s == segments - 1 ? RunLayers(sequential, start, end, x) : Checkpoint(t => RunLayers(sequential, start, end, t), x, generators);
        }
        return x;
    }

    private static Tensor RunLayers(Sequential sequential, int start, int end, Tensor x)
    {
        for (int i = start; i < end; i++) x = sequential[i].Forward(x);
        return x;
    }
}
