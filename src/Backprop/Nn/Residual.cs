namespace Backprop.Nn;

/// <summary>
/// A residual connection: y = body(x) + shortcut(x), with the identity as the shortcut unless a projection is given
/// (a 1×1 strided convolution, say, when the body changes the channels or the size). Children are named <c>body</c> and
/// <c>shortcut</c>. A ReLU after the sum, as in ResNet, goes after this module in a <see cref="Sequential"/>.
/// </summary>
/// <example>
/// A ResNet basic block that halves the size and doubles the channels:
/// <code>
/// new Sequential(
///     new Residual(
///         new Sequential(new Conv2d(16, 32, 3, stride: 2, padding: 1, bias: false), new BatchNorm2d(32), new Relu(),
///                        new Conv2d(32, 32, 3, padding: 1, bias: false), new BatchNorm2d(32)),
///         shortcut: new Sequential(new Conv2d(16, 32, 1, stride: 2, bias: false), new BatchNorm2d(32))),
///     new Relu());
/// </code>
/// </example>
public sealed class Residual : Module<Tensor, Tensor>
{
    /// <param name="body">The residual branch f.</param>
    /// <param name="shortcut">The projection of x added to f(x); the identity when null.</param>
    public Residual(Module<Tensor, Tensor> body, Module<Tensor, Tensor>? shortcut = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        Body = body;
        Shortcut = shortcut;
    }

    public Module<Tensor, Tensor> Body { get; }

    /// <summary>The projection on the skip path, or null for the identity.</summary>
    public Module<Tensor, Tensor>? Shortcut { get; }

    protected override Tensor ForwardCore(Tensor input)
    {
        var residual = Body.Forward(input);
        var skip = Shortcut is null ? input : Shortcut.Forward(input);
        // The sum must not broadcast: a body that changed the shape needs a projection on the skip path.
        if (residual.Shape != skip.Shape)
            throw new ShapeMismatchException("Residual",
                $"the body maps {input.Shape} to {residual.Shape} but the {(Shortcut is null ? "identity shortcut" : "shortcut")} gives {skip.Shape}; " +
                "give a shortcut projection to the body's shape");
        return residual + skip;
    }
}
