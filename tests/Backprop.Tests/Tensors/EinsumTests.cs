namespace Backprop.Tests.Tensors;

/// <summary>Einsum against a float64 evaluation of its definition: a sum of products over every assignment of the subscripts.</summary>
public class EinsumTests
{
    /// <summary>The definition, for explicit equations without an ellipsis.</summary>
    private static double[] Reference(string equation, Tensor[] operands, out int[] outputShape)
    {
        var parts = equation.Split("->");
        var inputs = parts[0].Split(',');
        var sizes = new Dictionary<char, int>();
        for (int i = 0; i < inputs.Length; i++)
            for (int d = 0; d < inputs[i].Length; d++) sizes[inputs[i][d]] = operands[i].Sizes[d];
        var letters = sizes.Keys.ToArray();
        var output = parts[1];
        outputShape = output.Select(c => sizes[c]).ToArray();
        var result = new double[Math.Max(1, outputShape.Aggregate(1, (a, b) => a * b))];
        if (outputShape.Contains(0)) result = [];
        var values = operands.Select(o => o.ToArray<double>()).ToArray();
        var at = new Dictionary<char, int>();
        void Visit(int l)
        {
            if (l == letters.Length)
            {
                double product = 1;
                for (int i = 0; i < inputs.Length; i++)
                {
                    int offset = 0;
                    for (int d = 0; d < inputs[i].Length; d++) offset = offset * operands[i].Sizes[d] + at[inputs[i][d]];
                    product *= values[i][offset];
                }
                int o = 0;
                foreach (var c in output) o = o * sizes[c] + at[c];
                result[o] += product;
                return;
            }
            for (int v = 0; v < sizes[letters[l]]; v++)
            {
                at[letters[l]] = v;
                Visit(l + 1);
            }
        }
        Visit(0);
        return result;
    }

    private static Tensor Random(Generator generator, params int[] shape) =>
        Tensor.FromArray(Enumerable.Range(0, Shape.CountElements(shape)).Select(_ => generator.NextDouble() * 4 - 2).ToArray(), shape);

    public static TheoryData<string, int[][]> Equations() => new()
    {
        { "ij,jk->ik", [[3, 4], [4, 5]] },
        { "bij,bjk->bik", [[2, 3, 4], [2, 4, 2]] },
        { "i,j->ij", [[3], [4]] },
        { "i,i->", [[5], [5]] },
        { "ii->", [[4, 4]] },
        { "ii->i", [[3, 3]] },
        { "ij->ji", [[2, 3]] },
        { "ijk->kij", [[2, 3, 4]] },
        { "ij->", [[3, 4]] },
        { "iji->j", [[2, 3, 2]] },
        { "ab,bc,cd->ad", [[2, 3], [3, 4], [4, 2]] },
        { "abc,cd,b->ad", [[2, 3, 4], [4, 2], [3]] },
        { "ij,ij->ij", [[3, 4], [3, 4]] },
        { "bi,bj->bij", [[2, 3], [2, 4]] },
        { "ijk,jil->kl", [[2, 3, 4], [3, 2, 5]] },
        { "ii,ij->j", [[3, 3], [3, 2]] },
        { "ij,jk->ik", [[0, 4], [4, 5]] },
        { "ij,jk->ik", [[3, 0], [0, 5]] },
    };

    [Theory]
    [MemberData(nameof(Equations))]
    public void Einsum_matches_the_definition(string equation, int[][] shapes)
    {
        var generator = new Generator(7);
        var operands = shapes.Select(s => Random(generator, s)).ToArray();
        var expected = Reference(equation, operands, out var shape);
        var actual = Tensor.Einsum(equation, operands);
        Assert.Equal(new Shape(shape), actual.Shape);
        var got = actual.ToArray<double>();
        for (int i = 0; i < got.Length; i++)
            Assert.True(Math.Abs(got[i] - expected[i]) <= 1e-12 * Math.Max(1, Math.Abs(expected[i])), $"{equation}: element {i} is {got[i]}, expected {expected[i]}");
        // The same on transposed (non-contiguous) copies of the operands.
        var viaViews = Tensor.Einsum(equation, operands.Select(o => o.Rank >= 2 ? o.MT.Contiguous().MT : o).ToArray()).ToArray<double>();
        Assert.Equal(got, viaViews);
    }

    [Fact]
    public void Implicit_output_and_ellipsis_follow_torch()
    {
        var generator = new Generator(3);
        var a = Random(generator, 2, 3);
        var b = Random(generator, 3, 4);
        // Implicit: the letters used once, alphabetically — "ba" transposes, "ij,jk" is a product.
        Assert.Equal(a.T.Contiguous().ToArray<double>(), Tensor.Einsum("ba", a).ToArray<double>());
        Assert.Equal(a.MatMul(b).ToArray<double>(), Tensor.Einsum("ij,jk", a, b).ToArray<double>());
        Assert.Equal(new Shape(4, 2), Tensor.Einsum("ij,jk->ki", a, b).Shape);
        // Ellipsis dims broadcast like a batch and come first in an implicit output.
        var batch = Random(generator, 5, 1, 2, 3);
        var other = Random(generator, 4, 3, 4);
        var viaEinsum = Tensor.Einsum("...ij,...jk", batch, other);
        Assert.Equal(new Shape(5, 4, 2, 4), viaEinsum.Shape);
        Assert.Equal(batch.MatMul(other).ToArray<double>(), viaEinsum.ToArray<double>());
        Assert.Equal(batch.MT.Contiguous().ToArray<double>(), Tensor.Einsum("...ij->...ji", batch).ToArray<double>());
        Assert.Equal(new Shape(3), Tensor.Einsum("...i->i", batch).Shape);
        Assert.Equal(3.0, Tensor.Einsum("i i - > ", Tensor.Eye(3, DType.Float64)).Item());
        var nonFinite = Tensor.FromArray(new[] { double.PositiveInfinity, 1 });
        Assert.True(double.IsNaN(Tensor.Einsum("i,i->", nonFinite, Tensor.FromArray(new[] { 0.0, 1 })).Item()));
    }

    [Fact]
    public void Bad_equations_name_the_problem()
    {
        var a = Tensor.Ones(2, 3);
        Assert.Throws<ArgumentException>(() => Tensor.Einsum("ij,jk->ik", a));
        Assert.Throws<ShapeMismatchException>(() => Tensor.Einsum("ijk->i", a));
        Assert.Throws<ShapeMismatchException>(() => Tensor.Einsum("ij,ij->i", a, Tensor.Ones(3, 2)));
        Assert.Throws<ShapeMismatchException>(() => Tensor.Einsum("ii->i", a));
        Assert.Throws<ArgumentException>(() => Tensor.Einsum("ij->k", a));
        Assert.Throws<ArgumentException>(() => Tensor.Einsum("ij->ii", a));
        Assert.Throws<ArgumentException>(() => Tensor.Einsum("i1->i", a));
    }

    [Fact]
    public void Einsum_gradients_match_the_equivalent_matmul()
    {
        var generator = new Generator(11);
        var a = Random(generator, 2, 3, 4);
        var b = Random(generator, 2, 4, 5);
        a.RequiresGrad = true;
        b.RequiresGrad = true;
        Tensor.Einsum("bij,bjk->bik", a, b).Square().Sum().Backward();
        var (ga, gb) = (a.Grad!.ToArray<double>(), b.Grad!.ToArray<double>());
        a.Grad = null;
        b.Grad = null;
        a.MatMul(b).Square().Sum().Backward();
        Assert.Equal(a.Grad!.ToArray<double>(), ga);
        Assert.Equal(b.Grad!.ToArray<double>(), gb);
    }
}
