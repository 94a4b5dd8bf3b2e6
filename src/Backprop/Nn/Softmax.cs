namespace Backprop.Nn;

/// <summary>eˣ / Σeˣ along <see cref="Dim"/>.</summary>
public sealed class Softmax : Module<Tensor, Tensor>
{
    public Softmax(int dim) => Dim = dim;

    public int Dim { get; }

    protected override Tensor ForwardCore(Tensor input) => input.Softmax(Dim);

    protected override string ExtraDescription => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"dim: {Dim}");
}
