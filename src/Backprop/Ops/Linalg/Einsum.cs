using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>
/// torch.einsum, lowered onto ops that already have gradients: a subscript repeated within one operand takes that
/// diagonal, a subscript that only one operand has and the output lacks is summed out at once, and operands are then
/// contracted left to right, each pair as one batched GEMM (permute the batch, free and contracted subscripts
/// together, reshape to [batch, m, k] × [batch, k, n]). The backward is that of those ops, so it is differentiable
/// again.
/// </summary>
internal static class Einsum
{
    /// <summary>A subscript: a letter's char code, or for the dims an ellipsis covers −1 (the last), −2, … .</summary>
    private readonly record struct Term(Tensor Tensor, List<int> Labels);

    public static Tensor Evaluate(string equation, Tensor[] operands)
    {
        var text = equation.Replace(" ", "");
        int arrow = text.IndexOf("->", StringComparison.Ordinal);
        var inputs = (arrow < 0 ? text : text[..arrow]).Split(',');
        if (inputs.Length != operands.Length)
            throw new ArgumentException($"Einsum: \"{equation}\" names {inputs.Length} operands but {operands.Length} were given.");
        var terms = new List<Term>();
        int ellipsisRank = 0;
        for (int i = 0; i < operands.Length; i++)
        {
            var labels = ParseInput(equation, inputs[i], operands[i], i);
            ellipsisRank = Math.Max(ellipsisRank, labels.Count(l => l < 0));
            terms.Add(new Term(operands[i], labels));
        }
        var output = arrow < 0 ? ImplicitOutput(terms, ellipsisRank) : ParseOutput(equation, text[(arrow + 2)..], terms, ellipsisRank);
        CheckSizes(equation, terms);

        for (int i = 0; i < terms.Count; i++) terms[i] = TakeDiagonals(equation, terms[i]);
        for (int i = 0; i < terms.Count; i++)
        {
            var others = terms.Where((_, j) => j != i).SelectMany(t => t.Labels).Concat(output).ToHashSet();
            terms[i] = SumOut(terms[i], l => !others.Contains(l));
        }
        var current = terms[0];
        for (int i = 1; i < terms.Count; i++)
        {
            var keep = terms.Skip(i + 1).SelectMany(t => t.Labels).Concat(output).ToHashSet();
            current = Contract(current, terms[i], keep);
        }
        current = SumOut(current, l => !output.Contains(l));
        var order = output.Select(l => current.Labels.IndexOf(l)).ToArray();
        return order.Length == 0 ? current.Tensor.Reshape() : Permuted(current.Tensor, order);
    }

    /// <summary>The permuted view, or the tensor itself when the order is already the identity (no node recorded).</summary>
    private static Tensor Permuted(Tensor tensor, int[] order)
    {
        for (int i = 0; i < order.Length; i++)
            if (order[i] != i) return tensor.Permute(order);
        return tensor;
    }

    private static List<int> ParseInput(string equation, string term, Tensor operand, int position)
    {
        var labels = new List<int>();
        int dots = term.IndexOf("...", StringComparison.Ordinal);
        int letters = term.Length - (dots >= 0 ? 3 : 0);
        int covered = operand.Rank - letters;
        if (dots >= 0 ? covered < 0 : covered != 0)
            throw new ShapeMismatchException("Einsum",
                $"\"{equation}\": operand {position} has shape {operand.Shape} but its subscripts \"{term}\" name {letters} dims");
        for (int c = 0; c < term.Length; c++)
        {
            if (c == dots)
            {
                for (int k = covered; k >= 1; k--) labels.Add(-k);
                c += 2;
                continue;
            }
            labels.Add(Letter(equation, term[c]));
        }
        return labels;
    }

    private static int Letter(string equation, char c) =>
        char.IsAsciiLetter(c) ? c : throw new ArgumentException($"Einsum: \"{equation}\" has '{c}' where a subscript letter (a–z, A–Z) or ... was expected.");

    // Implicit output: the ellipsis dims, then the letters used exactly once, in alphabetical order (upper case first).
    private static List<int> ImplicitOutput(List<Term> terms, int ellipsisRank)
    {
        var output = Enumerable.Range(1, ellipsisRank).Select(k => -(ellipsisRank + 1 - k)).ToList();
        var counts = terms.SelectMany(t => t.Labels).Where(l => l > 0).GroupBy(l => l);
        output.AddRange(counts.Where(g => g.Count() == 1).Select(g => g.Key).Order());
        return output;
    }

    private static List<int> ParseOutput(string equation, string term, List<Term> terms, int ellipsisRank)
    {
        var output = new List<int>();
        var known = terms.SelectMany(t => t.Labels).ToHashSet();
        for (int c = 0; c < term.Length; c++)
        {
            if (string.CompareOrdinal(term, c, "...", 0, 3) == 0)
            {
                output.AddRange(Enumerable.Range(1, ellipsisRank).Select(k => -(ellipsisRank + 1 - k)));
                c += 2;
                continue;
            }
            int label = Letter(equation, term[c]);
            if (!known.Contains(label))
                throw new ArgumentException($"Einsum: \"{equation}\": output subscript '{term[c]}' does not appear in any input.");
            if (output.Contains(label))
                throw new ArgumentException($"Einsum: \"{equation}\": output subscript '{term[c]}' appears more than once.");
            output.Add(label);
        }
        return output;
    }

    // A subscript has one size everywhere, except that a size of 1 broadcasts.
    private static void CheckSizes(string equation, List<Term> terms)
    {
        var sizes = new Dictionary<int, int>();
        foreach (var term in terms)
            for (int d = 0; d < term.Labels.Count; d++)
            {
                int size = term.Tensor.Sizes[d];
                if (!sizes.TryGetValue(term.Labels[d], out int seen) || seen == 1) sizes[term.Labels[d]] = size;
                else if (size != seen && size != 1)
                    throw new ShapeMismatchException("Einsum",
                        $"\"{equation}\": subscript {Describe(term.Labels[d])} has size {seen} in one place and {size} in another " +
                        $"(operand shapes {string.Join(", ", terms.Select(t => t.Tensor.Shape))})");
            }
    }

    private static string Describe(int label) => label > 0 ? $"'{(char)label}'" : "of the ellipsis";

    /// <summary>A subscript repeated within one operand keeps only the elements where those indices agree: a diagonal.</summary>
    private static Term TakeDiagonals(string equation, Term term)
    {
        var (tensor, labels) = (term.Tensor, new List<int>(term.Labels));
        while (true)
        {
            int second = -1, first = -1;
            for (int j = 0; j < labels.Count && second < 0; j++)
                for (int i = 0; i < j; i++)
                    if (labels[i] == labels[j]) { first = i; second = j; break; }
            if (second < 0) return new Term(tensor, labels);
            if (tensor.Sizes[first] != tensor.Sizes[second])
                throw new ShapeMismatchException("Einsum",
                    $"\"{equation}\": subscript {Describe(labels[first])} is repeated in one operand over dims of sizes {tensor.Sizes[first]} and {tensor.Sizes[second]}");
            var rest = Enumerable.Range(0, labels.Count).Where(d => d != first && d != second).ToList();
            tensor = tensor.Permute([.. rest, first, second]).Diagonal();
            int label = labels[first];
            labels = [.. rest.Select(d => labels[d]), label];
        }
    }

    private static Term SumOut(Term term, Func<int, bool> summed)
    {
        var dims = Enumerable.Range(0, term.Labels.Count).Where(d => summed(term.Labels[d])).ToArray();
        if (dims.Length == 0) return term;
        return new Term(term.Tensor.Sum(dims), term.Labels.Where(l => !summed(l)).ToList());
    }

    /// <summary>One pair as a batched GEMM: [batch, a's own, contracted] × [batch, contracted, b's own].</summary>
    private static Term Contract(Term a, Term b, HashSet<int> keep)
    {
        a = SumOut(a, l => !keep.Contains(l) && !b.Labels.Contains(l));
        b = SumOut(b, l => !keep.Contains(l) && !a.Labels.Contains(l));
        var shared = a.Labels.Where(b.Labels.Contains).ToList();
        var batch = shared.Where(keep.Contains).ToList();
        var contracted = shared.Where(l => !keep.Contains(l)).ToList();
        var aOwn = a.Labels.Where(l => !shared.Contains(l)).ToList();
        var bOwn = b.Labels.Where(l => !shared.Contains(l)).ToList();

        // A shared subscript of size 1 on one side broadcasts to the other's size.
        int SizeOf(Term t, int label) => t.Tensor.Sizes[t.Labels.IndexOf(label)];
        var sharedSizes = shared.ToDictionary(l => l, l => Math.Max(SizeOf(a, l), SizeOf(b, l)));
        Tensor Arranged(Term t, List<int> order) =>
            Permuted(t.Tensor, order.Select(l => t.Labels.IndexOf(l)).ToArray())
                .ExpandTo(order.Select(l => sharedSizes.TryGetValue(l, out int s) ? s : SizeOf(t, l)).ToArray());

        int Product(IEnumerable<int> labels, Term t) => labels.Aggregate(1, (p, l) => p * (sharedSizes.TryGetValue(l, out int s) ? s : SizeOf(t, l)));
        int batchSize = Product(batch, a), m = Product(aOwn, a), k = Product(contracted, a), n = Product(bOwn, b);
        var left = Arranged(a, [.. batch, .. aOwn, .. contracted]).Reshape(batchSize, m, k);
        var right = Arranged(b, [.. batch, .. contracted, .. bOwn]).Reshape(batchSize, k, n);
        int[] sizes = [.. batch.Select(l => sharedSizes[l]), .. aOwn.Select(l => SizeOf(a, l)), .. bOwn.Select(l => SizeOf(b, l))];
        return new Term(Tensor.MatMul(left, right).Reshape(sizes), [.. batch, .. aOwn, .. bOwn]);
    }

    /// <summary>Einsum's gradient-check rows (listed among MatMul's, the op its contractions run on).</summary>
    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Einsum matmul", x => Tensor.Einsum("ij,jk->ik", x[0], x[1]), GradcheckInput.Transposed(3, 4), [4, 2]),
        new("Einsum batched matmul implicit", x => Tensor.Einsum("bij,bjk", x[0], x[1]), [2, 3, 4], [2, 4, 2]),
        new("Einsum outer product", x => Tensor.Einsum("i,j->ij", x[0], x[1]), [3], [4]),
        new("Einsum trace and diagonal", x => Tensor.Einsum("ii->", x[0]) * Tensor.Einsum("ii->i", x[0]), [3, 3]),
        new("Einsum ellipsis broadcast", x => Tensor.Einsum("...ij,...jk->...ik", x[0], x[1]), [2, 1, 2, 3], GradcheckInput.Strided(3, 3, 2)),
        new("Einsum three operands with summed index", x => Tensor.Einsum("ab,bcd,d->ac", x[0], x[1], x[2]), [2, 3], [3, 2, 4], [4]),
        new("Einsum repeated index across three", x => Tensor.Einsum("iij,jk,ik->jk", x[0], x[1], x[2]), [2, 2, 3], [3, 2], [2, 2]),
    ];
}
