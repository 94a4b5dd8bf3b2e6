namespace Backprop.Nn;

/// <summary>Merges dims <see cref="StartDim"/>..<see cref="EndDim"/> into one (by default all but the batch dim).</summary>
public sealed class Flatten : Module<Tensor, Tensor>
{
    public Flatten(int startDim = 1, int endDim = -1)
    {
        StartDim = startDim;
        EndDim = endDim;
    }

    public int StartDim { get; }

    public int EndDim { get; }

    protected override Tensor ForwardCore(Tensor input) => input.Flatten(StartDim, EndDim);

    protected override string ExtraDescription => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"startDim: {StartDim}, endDim: {EndDim}");
}
