using System.Collections;

namespace Backprop.Nn;

/// <summary>
/// Modules applied one after another, each to the previous one's output. Children are named by position
/// (<c>0.weight</c>, <c>2.bias</c>), as in PyTorch.
/// </summary>
/// <example><c>var mlp = new Sequential(new Linear(2, 8), new Tanh(), new Linear(8, 1));</c></example>
public sealed class Sequential : Module<Tensor, Tensor>, IReadOnlyList<Module<Tensor, Tensor>>
{
    [IgnoreDiscovery] private readonly List<Module<Tensor, Tensor>> _layers = [];

    public Sequential(params Module<Tensor, Tensor>[] layers)
    {
        foreach (var layer in layers) Add(layer);
    }

    /// <summary>Appends a layer (named by its position).</summary>
    public void Add(Module<Tensor, Tensor> layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        RegisterModule(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer);
        _layers.Add(layer);
    }

    public Module<Tensor, Tensor> this[int index] => _layers[index];

    public int Count => _layers.Count;

    protected override Tensor ForwardCore(Tensor input)
    {
        foreach (var layer in _layers) input = layer.Forward(input);
        return input;
    }

    public IEnumerator<Module<Tensor, Tensor>> GetEnumerator() => _layers.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
