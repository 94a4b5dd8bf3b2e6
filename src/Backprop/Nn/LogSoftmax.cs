namespace Backprop.Nn;

/// <summary>x − log Σeˣ along <see cref="Dim"/>, computed stably.</summary>
public sealed class LogSoftmax : Module<Tensor, Tensor>
{
    public LogSoftmax(int dim) => Dim = dim;

    public int Dim { get; }

    protected override Tensor ForwardCore(Tensor input) => input.LogSoftmax(Dim);

    protected override string ExtraDescription => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"dim: {Dim}");
}
