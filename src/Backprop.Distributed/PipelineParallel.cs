using Backprop.Nn;

namespace Backprop.Distributed;

/// <summary>
/// Pipeline parallelism with GPipe's schedule: a <see cref="Sequential"/> cut into consecutive stages, stage r on
/// rank r; each batch is cut into micro-batches that flow forward through the stages (activations sent with
/// Send/Receive), then backward in reverse (gradients of the activations sent back). Every stage accumulates its
/// parameters' gradients over the micro-batches, so after <see cref="Step"/> they are those of the whole batch, as if
/// one process had run the unsplit model.
/// </summary>
/// <remarks>
/// While stage r works on micro-batch m, stage r+1 works on m-1: with M micro-batches and S stages a step takes
/// M+S-1 stage-times instead of M·S, the idle "bubble" shrinking as M grows. All activations of a step are kept
/// until its backward (GPipe's memory cost; 1F1B schedules interleave to bound it). Activations travel as float32.
/// </remarks>
public sealed class PipelineParallel
{
    private const int ShapeTag = 101, ForwardTag = 102, BackwardTag = 103;

    /// <summary>An activation's shape travels first, in a fixed-size header: its rank, then up to this many sizes.</summary>
    private const int MaxDims = 8;

    /// <param name="stage">This rank's consecutive layers (see <see cref="SplitStages"/>).</param>
    /// <param name="group">One rank per stage, in pipeline order.</param>
    /// <param name="microBatches">Micro-batches per step; the batch is cut along dimension 0.</param>
    public PipelineParallel(Module<Tensor, Tensor> stage, IProcessGroup group, int microBatches)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(microBatches, 1);
        Stage = stage;
        Group = group;
        MicroBatches = microBatches;
    }

    public Module<Tensor, Tensor> Stage { get; }

    public IProcessGroup Group { get; }

    public int MicroBatches { get; }

    public bool IsFirst => Group.Rank == 0;

    public bool IsLast => Group.Rank == Group.Size - 1;

    /// <summary>
    /// Cuts <paramref name="model"/> into <paramref name="stages"/> runs of consecutive layers with about equal numbers
    /// of parameters (each stage at least one layer). Every rank cuts the same way and keeps its own.
    /// </summary>
    public static Sequential[] SplitStages(Sequential model, int stages)
    {
        if (stages < 1 || stages > model.Count)
            throw new ArgumentOutOfRangeException(nameof(stages), $"SplitStages: {stages} stages for a Sequential of {model.Count} layers.");
        var weights = model.Select(layer => layer.Parameters().Sum(p => p.NumElements) + 1).ToArray();
        double total = weights.Sum();
        var result = new Sequential[stages];
        int next = 0;
        double cumulative = 0;
        for (int s = 0; s < stages; s++)
        {
            var stage = new Sequential();
            int layersLeftForLaterStages = stages - s - 1;
            // At least one layer; then more while they fit this stage's share of the parameters (the last takes the rest).
            do
            {
                cumulative += weights[next];
                stage.Add(model[next++]);
            } while (next < model.Count - layersLeftForLaterStages
                     && (layersLeftForLaterStages == 0 || cumulative + weights[next] / 2 <= total * (s + 1) / stages));
            result[s] = stage;
        }
        return result;
    }

    /// <summary>
    /// Runs one GPipe step: forward of every micro-batch, then backward in reverse order; parameter gradients
    /// accumulate. The first rank passes the batch; the last passes <paramref name="loss"/>, which maps a
    /// micro-batch's output and its index to a scalar (to train on the batch's mean, the micro-batch's mean divided
    /// by <see cref="MicroBatches"/>). Returns the sum of the losses on the last rank, null on the others.
    /// </summary>
    public double? Step(Tensor? input, Func<Tensor, int, Tensor>? loss)
    {
        if (IsFirst && input is null) throw new ArgumentNullException(nameof(input), "PipelineParallel.Step: the first stage needs the batch.");
        if (IsLast && loss is null) throw new ArgumentNullException(nameof(loss), "PipelineParallel.Step: the last stage needs the loss.");
        var micro = IsFirst ? input!.Chunk(MicroBatches) : null;
        if (micro is not null && micro.Length != MicroBatches)
            throw new ArgumentException($"PipelineParallel.Step: a batch of {input!.Size(0)} rows cannot make {MicroBatches} micro-batches.", nameof(input));
        var inputs = new Tensor[MicroBatches];
        var outputs = new Tensor[MicroBatches];
        for (int m = 0; m < MicroBatches; m++)
        {
            // A received activation is a leaf that requires grad: its gradient is what goes back to the previous stage.
            inputs[m] = IsFirst ? micro![m] : ReceiveTensor(Group.Rank - 1, requiresGrad: true);
            outputs[m] = Stage.Forward(inputs[m]);
            if (!IsLast) SendTensor(outputs[m], Group.Rank + 1);
        }
        double total = 0;
        for (int m = MicroBatches - 1; m >= 0; m--)
        {
            if (IsLast)
            {
                var value = loss!(outputs[m], m);
                value.Backward();
                total += value.Item<double>();
            }
            else
            {
                var grad = new float[outputs[m].NumElements];
                Group.Receive(grad, Group.Rank + 1, BackwardTag);
                outputs[m].Backward(Tensor.FromArray(grad, outputs[m].Shape.ToArray(), outputs[m].DType));
            }
            if (!IsFirst)
            {
                var back = inputs[m].Grad ?? Tensor.ZerosLike(inputs[m]);
                Group.Send(back.ToArray<float>(), Group.Rank - 1, BackwardTag);
            }
        }
        return IsLast ? total : null;
    }

    private void SendTensor(Tensor tensor, int destination)
    {
        var dims = tensor.Shape.AsSpan();
        if (dims.Length > MaxDims)
            throw new ArgumentException($"PipelineParallel: an activation of shape {tensor.Shape} has more than {MaxDims} dimensions.");
        var header = new float[MaxDims + 1];
        header[0] = dims.Length;
        for (int i = 0; i < dims.Length; i++) header[i + 1] = dims[i];
        Group.Send(header, destination, ShapeTag);
        Group.Send(tensor.ToArray<float>(), destination, ForwardTag);
    }

    private Tensor ReceiveTensor(int source, bool requiresGrad)
    {
        var header = new float[MaxDims + 1];
        Group.Receive(header, source, ShapeTag);
        int rank = (int)header[0];
        var dims = new int[rank];
        for (int i = 0; i < rank; i++) dims[i] = (int)header[i + 1];
        var values = new float[dims.Aggregate(1, (product, d) => checked(product * d))];
        Group.Receive(values, source, ForwardTag);
        var tensor = Tensor.FromArray(values, dims);
        tensor.RequiresGrad = requiresGrad;
        return tensor;
    }
}
