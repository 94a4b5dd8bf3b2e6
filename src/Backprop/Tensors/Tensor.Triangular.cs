namespace Backprop;

public partial class Tensor
{
    /// <summary>
    /// The lower triangle of the last two dims (torch.tril): elements with column − row ≤ <paramref name="diagonal"/>
    /// kept, the rest zero (even where they were NaN). The gradient is the lower triangle of the output's gradient.
    /// </summary>
    public Tensor Tril(int diagonal = 0) => KeepTriangle("Tril", diagonal, lower: true);

    /// <summary>The upper triangle of the last two dims (torch.triu): elements with column − row ≥ <paramref name="diagonal"/> kept.</summary>
    public Tensor Triu(int diagonal = 0) => KeepTriangle("Triu", diagonal, lower: false);

    private Tensor KeepTriangle(string op, int diagonal, bool lower)
    {
        if (Rank < 2) throw new ShapeMismatchException(op, $"needs a tensor of at least 2 dims; got {Shape}");
        int rows = Sizes[^2], cols = Sizes[^1];
        var mask = new double[rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                mask[i * cols + j] = (lower ? j - i <= diagonal : j - i >= diagonal) ? 1 : 0;
        // A Bool mask and a zero of this tensor's own dtype, so the result keeps it (a Bool causal mask stays Bool).
        return Where(FromHost(mask, [rows, cols], DType.Bool, Device), this, Scalar(0, DType, Device));
    }

    /// <summary>
    /// The <paramref name="offset"/>-th diagonal of the last two dims as the new last dim (torch.diagonal(x, offset,
    /// -2, -1)): offset &gt; 0 above the main diagonal, &lt; 0 below. A view when the matrices are contiguous.
    /// </summary>
    public Tensor Diagonal(int offset = 0)
    {
        if (Rank < 2) throw new ShapeMismatchException("Diagonal", $"needs a tensor of at least 2 dims; got {Shape}");
        int rows = Sizes[^2], cols = Sizes[^1];
        int length = Math.Max(0, offset >= 0 ? Math.Min(rows, cols - offset) : Math.Min(rows + offset, cols));
        // Flattened, the diagonal is every (cols + 1)-th element from its first one.
        var flat = Reshape([.. Sizes[..^2], rows * cols]);
        int start = offset >= 0 ? offset : -offset * cols;
        return length == 0 ? flat.Narrow(-1, 0, 0) : flat.Slice(-1, start, start + (length - 1) * (cols + 1) + 1, cols + 1);
    }

    /// <summary>Square matrices [..., N, N] with this tensor's last dim [..., N] on their diagonals (torch.diag_embed).</summary>
    public Tensor DiagEmbed()
    {
        if (Rank < 1) throw new ShapeMismatchException("DiagEmbed", $"needs a tensor of at least 1 dim; got {Shape}");
        return Where(Eye(Sizes[^1], DType, Device), Unsqueeze(-1), 0.0);
    }

    /// <summary>
    /// torch.diag: a 1-D tensor becomes the square matrix with it on the <paramref name="offset"/>-th diagonal; a 2-D
    /// tensor gives that diagonal.
    /// </summary>
    public Tensor Diag(int offset = 0)
    {
        if (Rank == 2) return Diagonal(offset);
        if (Rank != 1) throw new ShapeMismatchException("Diag", $"needs a 1-D or 2-D tensor; got {Shape}");
        var square = DiagEmbed();
        if (offset == 0) return square;
        int n = Sizes[0], shift = Math.Abs(offset);
        var side = Zeros(new Shape([n, shift]), DType, Device);
        var widened = offset > 0 ? Cat([side, square], 1) : Cat([square, side], 1);
        var band = Zeros(new Shape([shift, n + shift]), DType, Device);
        return offset > 0 ? Cat([widened, band], 0) : Cat([band, widened], 0);
    }
}
