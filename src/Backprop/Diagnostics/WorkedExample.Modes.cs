namespace Backprop.Diagnostics;

/// <summary>One forward tensor of a worked example run in forward mode: its value and its tangent in each pass.</summary>
/// <param name="Tangents">One per element of x: the tangent of this tensor when x carries the basis tangent eᵢ, i.e. ∂(this)/∂xᵢ.</param>
public sealed record ForwardModeRow(string Name, string? Formula, Tensor Value, IReadOnlyList<Tensor> Tangents);

/// <summary>
/// A worked example differentiated with respect to its input x both ways: one forward pass per element of x (the
/// tangents of every value: one column of the Jacobian per pass), and one backward pass from the loss (the whole
/// row ∂L/∂x at once).
/// </summary>
public sealed record ForwardModeExplanation(string Title, IReadOnlyList<ForwardModeRow> Rows, Tensor LossRowByReverseMode)
{
    /// <summary>∂L/∂x as the forward passes give it: entry i is the loss's tangent in pass i.</summary>
    public double[] LossRowByForwardMode => Rows[^1].Tangents.Select(t => t.Item()).ToArray();
}

/// <summary>The Hessian of a worked example's loss with respect to all its parameters, flattened in order.</summary>
/// <param name="Names">The parameter elements in order: W1[0,0], W1[0,1], …, b2[0].</param>
/// <param name="Gradient">∂L/∂θ [n].</param>
/// <param name="Hessian">∂²L/∂θ² [n, n], by forward-over-reverse differentiation.</param>
/// <param name="Eigenvalues">The Hessian's eigenvalues in ascending order (its curvature along its principal axes).</param>
public sealed record HessianExplanation(string Title, IReadOnlyList<string> Names, Tensor Gradient, Tensor Hessian, Tensor Eigenvalues);

public sealed partial class WorkedExample
{
    /// <summary>
    /// Runs worked example <paramref name="key"/> once per element of x with x carrying that basis vector as its
    /// tangent, recording every named value's tangent, and once backwards from the loss for ∂L/∂x.
    /// </summary>
    public static ForwardModeExplanation ExplainForward(string key)
    {
        var plain = Create(key);
        var x = plain.Forward[0];
        int n = x.NumElements;
        var tangents = plain.Forward.Select(_ => new List<Tensor>()).ToList();
        for (int i = 0; i < n; i++)
        {
            var basis = new double[n];
            basis[i] = 1;
            using (ForwardAD.DualLevel())
            {
                var e = Tensor.FromArray(basis, x.Device, x.DType).Reshape(x.Sizes);
                var example = Create(key, (name, t) => name == "x" ? ForwardAD.MakeDual(t, e) : t);
                for (int k = 0; k < example.Forward.Count; k++)
                {
                    var value = example.Forward[k];
                    tangents[k].Add((ForwardAD.UnpackDual(value).Tangent ?? Tensor.ZerosLike(value)).Detach());
                }
            }
        }
        Tensor? input = null;
        var reverse = Create(key, (name, t) => name == "x" ? input = t.SetRequiresGrad() : t);
        var row = Autograd.Grad([reverse.Loss], [input!])[0]!;
        var rows = plain.Forward.Select((t, k) => new ForwardModeRow(t.Name!, plain.Formulas.GetValueOrDefault(t.Name!), t.Detach(), tangents[k])).ToList();
        return new ForwardModeExplanation(plain.Title, rows, row.Reshape(-1));
    }

    /// <summary>
    /// The Hessian of worked example <paramref name="key"/>'s loss with respect to all its parameters, computed in
    /// float64 by <see cref="Transforms.Hessian"/> on the loss as a function of one parameter vector.
    /// </summary>
    public static HessianExplanation ExplainHessian(string key)
    {
        var plain = Create(key);
        var names = new List<string>();
        var values = new List<double>();
        foreach (var p in plain.Parameters)
        {
            values.AddRange(p.Detach().To(DType.Float64).ToArray<double>());
            for (int e = 0; e < p.NumElements; e++) names.Add(ElementName(p.Name!, p.Shape, e));
        }
        var theta = Tensor.FromArray(values.ToArray());

        Tensor Loss(Tensor flat)
        {
            int offset = 0;
            var example = Create(key, (name, t) =>
            {
                if (!t.RequiresGrad) return t.To(DType.Float64);
                var slice = flat.Slice(0, offset, offset + t.NumElements).Reshape(t.Sizes);
                offset += t.NumElements;
                return slice;
            });
            return example.Loss;
        }

        var gradient = Transforms.Grad(Loss)(theta);
        var hessian = Transforms.Hessian(Loss, theta);
        var eigenvalues = Linalg.Eigvalsh(hessian);
        return new HessianExplanation(plain.Title, names, gradient, hessian, eigenvalues);
    }

    private static string ElementName(string name, Shape shape, int element)
    {
        if (shape.Rank == 1) return $"{name}[{element}]";
        return $"{name}[{element / shape[1]},{element % shape[1]}]";
    }
}
