namespace Backprop;

/// <summary>
/// A height and a width: a kernel size, stride, padding or dilation of a 2-D convolution or pooling op. An int
/// converts to the square pair and a tuple <c>(height, width)</c> to a rectangular one, so arguments read as in
/// PyTorch: <c>stride: 2</c>, <c>padding: (1, 0)</c>.
/// </summary>
public readonly record struct Size2d(int Height, int Width)
{
    public static implicit operator Size2d(int size) => new(size, size);

    public static implicit operator Size2d((int Height, int Width) size) => new(size.Height, size.Width);

    public override string ToString() => Height == Width ? Height.ToString() : $"({Height}, {Width})";
}
