namespace Backprop;

/// <summary>How <see cref="Transforms.Jacobian"/> builds the Jacobian of f: ℝⁿ → ℝᵐ.</summary>
public enum JacobianMode
{
    /// <summary>Forward mode when the input has fewer elements than the output (n &lt; m), reverse mode otherwise.</summary>
    Auto,
    /// <summary>One backward pass per output element: m vector-Jacobian products, one row each.</summary>
    Reverse,
    /// <summary>One forward pass per input element with a basis tangent: n Jacobian-vector products, one column each.</summary>
    Forward,
}

/// <summary>
/// Function transforms (torch.func, JAX): derivatives of a function of one tensor, returned as tensors or as new
/// functions. They compose — <c>Jacobian(Grad(f), x)</c> is the Hessian — because each transform differentiates with
/// respect to its own private copy of the input, linked to the caller's tensor: when that tensor requires grad (an
/// outer reverse-mode transform) or carries a tangent (an outer forward-mode one), the results carry the derivatives
/// the outer transform needs; otherwise they are plain tensors without history.
/// </summary>
/// <remarks>
/// Forward-mode transforms (<see cref="Jvp"/>, forward <see cref="Jacobian"/>, <see cref="Hessian"/>, <see cref="Hvp"/>)
/// open a <see cref="ForwardAD.DualLevel"/>; levels do not nest, so a forward-mode transform cannot run inside another.
/// </remarks>
public static class Transforms
{
    /// <summary>∇f: the function x ↦ ∂f/∂x of a function f with a one-element output (torch.func.grad).</summary>
    public static Func<Tensor, Tensor> Grad(Func<Tensor, Tensor> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        return x => GradAndValue(f)(x).Gradient;
    }

    /// <summary>x ↦ (∂f/∂x, f(x)) in one pass (torch.func.grad_and_value).</summary>
    public static Func<Tensor, (Tensor Gradient, Tensor Value)> GradAndValue(Func<Tensor, Tensor> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        return x =>
        {
            var (xi, nested) = Enter(x);
            var y = f(xi);
            if (y.NumElements != 1)
                throw new ArgumentException($"Transforms.Grad: the function must return one element (a loss); it returned shape {y.Shape}. Use Jacobian or Vjp for vector outputs.");
            var g = GradientOf(y, xi, Tensor.OnesLike(y), retainGraph: nested, nested);
            return (nested ? g : Plain(g), nested ? y : Plain(y));
        };
    }

    /// <summary>
    /// f(x) and the function v ↦ vᵀ·∂f/∂x (torch.func.vjp): one forward pass, then one backward pass per call, each
    /// giving one linear combination of the Jacobian's rows.
    /// </summary>
    public static (Tensor Output, Func<Tensor, Tensor> Vjp) Vjp(Func<Tensor, Tensor> f, Tensor x)
    {
        ArgumentNullException.ThrowIfNull(f);
        var (xi, nested) = Enter(x);
        var y = f(xi);
        return (nested ? y : Plain(y), v =>
        {
            ArgumentNullException.ThrowIfNull(v);
            if (v.Shape != y.Shape) throw new ShapeMismatchException("Transforms.Vjp", $"v has shape {v.Shape} but the output has shape {y.Shape}");
            var g = GradientOf(y, xi, v.DType == y.DType ? v : v.To(y.DType), retainGraph: true, nested);
            return nested ? g : Plain(g);
        });
    }

    /// <summary>
    /// f(x) and ∂f/∂x·t, the Jacobian-vector product (torch.func.jvp), from one forward pass carrying the tangent
    /// <paramref name="tangent"/> (of x's shape): one linear combination of the Jacobian's columns.
    /// </summary>
    public static (Tensor Output, Tensor Tangent) Jvp(Func<Tensor, Tensor> f, Tensor x, Tensor tangent)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(tangent);
        using (ForwardAD.DualLevel())
        {
            var y = f(ForwardAD.MakeDual(x, tangent.DType == x.DType ? tangent : tangent.To(x.DType)));
            var (primal, t) = ForwardAD.UnpackDual(y);
            // The primal is a view of y: detached when nothing outside asked for its history.
            var output = y.RequiresGrad && x.RequiresGrad ? primal : primal.Detach();
            return (output, t ?? Tensor.ZerosLike(y));
        }
    }

    /// <summary>
    /// The Jacobian ∂f/∂x of shape [..f(x).Shape, ..x.Shape] (torch.func.jacrev / jacfwd): built row by row in reverse
    /// mode (one backward pass per output element) or column by column in forward mode (one forward pass per input
    /// element), whichever takes fewer passes unless <paramref name="mode"/> says.
    /// </summary>
    public static Tensor Jacobian(Func<Tensor, Tensor> f, Tensor x, JacobianMode mode = JacobianMode.Auto)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(x);
        if (!x.DType.IsFloatingPoint())
            throw new ArgumentException($"Transforms.Jacobian: x must be floating point; it is {x.DType.DisplayName()}.");
        if (mode == JacobianMode.Forward) return JacobianForward(f, x, outputSizes: null);
        var (xi, nested) = Enter(x);
        var y = f(xi);
        if (mode == JacobianMode.Auto && x.NumElements < y.NumElements) return JacobianForward(f, x, y.Sizes);
        return JacobianReverse(y, xi, nested).Reshape([.. y.Sizes, .. x.Sizes]);
    }

    /// <summary>
    /// The Hessian ∂²f/∂x² of a function with one output element, of shape [..x.Shape, ..x.Shape]: the Jacobian of the
    /// gradient, <c>Jacobian(Grad(f), x, mode)</c>. Forward over reverse by default (as torch.func.hessian): one forward
    /// pass with a basis tangent through the gradient computation per input element.
    /// </summary>
    public static Tensor Hessian(Func<Tensor, Tensor> f, Tensor x, JacobianMode mode = JacobianMode.Forward) =>
        Jacobian(Grad(f), x, mode);

    /// <summary>
    /// f(x) and the Hessian-vector product ∇²f(x)·v, forward over reverse: the gradient is computed once with x
    /// carrying the tangent v, and the gradient's tangent is H·v. The Hessian is never formed: it costs about one
    /// forward and one backward pass more than the gradient.
    /// </summary>
    public static (Tensor Value, Tensor Product) Hvp(Func<Tensor, Tensor> f, Tensor x, Tensor v)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(v);
        if (v.Shape != x.Shape) throw new ShapeMismatchException("Transforms.Hvp", $"v has shape {v.Shape} but x has shape {x.Shape}");
        using (ForwardAD.DualLevel())
        {
            var (gradient, value) = GradAndValue(f)(ForwardAD.MakeDual(x, v.DType == x.DType ? v : v.To(x.DType)));
            var product = ForwardAD.UnpackDual(gradient).Tangent ?? Tensor.ZerosLike(x);
            var primal = ForwardAD.UnpackDual(value).Primal;
            return (x.RequiresGrad ? primal : primal.Detach(), x.RequiresGrad ? product : product.Detach());
        }
    }

    /// <summary>
    /// The transform's own copy of x: a new node (so that gradients captured at it count only this transform's uses)
    /// linked to x when x requires grad, else a fresh leaf; it keeps x's tangent. Nested is true when an outer
    /// transform differentiates through this one, which then builds the graph of its results.
    /// </summary>
    private static (Tensor Input, bool Nested) Enter(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (!x.DType.IsFloatingPoint())
            throw new ArgumentException($"Transforms: the input must be floating point to be differentiated; it is {x.DType.DisplayName()}.");
        bool nested = x.RequiresGrad && Autograd.IsGradEnabled;
        var tangent = ForwardAD.TangentOf(x);
        var source = nested ? x : x.Detach().SetRequiresGrad();
        Tensor input;
        using (Autograd.EnableGrad())
        {
            if (tangent is not null) input = ForwardAD.MakeDual(source, tangent);
            else
                using (ForwardAD.Suspend())
                    input = Ops.ViewOp.Apply(source, x.Sizes);
        }
        return (input, nested);
    }

    /// <summary>The tensor without history, keeping its tangent (also without history), for a caller that is not differentiating.</summary>
    private static Tensor Plain(Tensor t)
    {
        var tangent = ForwardAD.TangentOf(t);
        return tangent is null ? t.Detach() : ForwardAD.MakeDual(t.Detach(), tangent.Detach());
    }

    /// <summary>vᵀ·∂y/∂x for the transform's input x (zeros when y does not depend on it).</summary>
    private static Tensor GradientOf(Tensor y, Tensor x, Tensor v, bool retainGraph, bool createGraph)
    {
        if (!y.RequiresGrad) return Tensor.ZerosLike(x);
        return Autograd.Grad([y], [x], [v], retainGraph: retainGraph, createGraph: createGraph, allowUnused: true)[0] ?? Tensor.ZerosLike(x);
    }

    /// <summary>The Jacobian of y with respect to x as a matrix [y elements, x elements], one backward pass per row.</summary>
    internal static Tensor JacobianReverse(Tensor y, Tensor x, bool createGraph) => JacobianReverse(y, [x], createGraph);

    /// <summary>
    /// The Jacobian of y with respect to several tensors, flattened and concatenated in order: a matrix
    /// [y elements, Σ elements of xs], one backward pass per row (used by <see cref="Optim.Newton"/> on the gradient).
    /// </summary>
    internal static Tensor JacobianReverse(Tensor y, IReadOnlyList<Tensor> xs, bool createGraph)
    {
        int m = y.NumElements;
        int n = xs.Sum(t => t.NumElements);
        if (!y.RequiresGrad) return Tensor.Zeros(Shape.Wrap([m, n]), y.DType, y.Device);
        var rows = new Tensor[m];
        var basis = new double[m];
        for (int j = 0; j < m; j++)
        {
            basis[j] = 1;
            var e = Tensor.FromArray(basis, y.Device, y.DType).Reshape(y.Sizes);
            basis[j] = 0;
            var grads = Autograd.Grad([y], xs, [e], retainGraph: true, createGraph: createGraph, allowUnused: true);
            rows[j] = Tensor.Cat(grads.Select((g, k) => (g ?? Tensor.ZerosLike(xs[k])).Reshape(-1)));
        }
        return Tensor.Stack(rows);
    }

    /// <summary>The Jacobian column by column: f run once per element of x with that basis vector as the tangent.</summary>
    private static Tensor JacobianForward(Func<Tensor, Tensor> f, Tensor x, int[]? outputSizes)
    {
        int n = x.NumElements;
        if (n == 0)
        {
            if (outputSizes is null)
                using (Autograd.NoGrad()) outputSizes = f(x).Sizes;
            return Tensor.Zeros(Shape.Wrap([.. outputSizes, .. x.Sizes]), x.DType, x.Device);
        }
        var columns = new Tensor[n];
        var basis = new double[n];
        using (ForwardAD.DualLevel())
        {
            for (int i = 0; i < n; i++)
            {
                basis[i] = 1;
                var e = Tensor.FromArray(basis, x.Device, x.DType).Reshape(x.Sizes);
                basis[i] = 0;
                var y = f(ForwardAD.MakeDual(x, e));
                outputSizes ??= y.Sizes;
                var column = ForwardAD.UnpackDual(y).Tangent ?? Tensor.ZerosLike(y);
                columns[i] = column.Reshape(-1);
            }
        }
        outputSizes ??= [];
        // [x elements, y elements] → [..y, ..x]
        var jacobian = Tensor.Stack(columns, dim: 1);
        return x.RequiresGrad && Autograd.IsGradEnabled ? jacobian.Reshape([.. outputSizes, .. x.Sizes]) : jacobian.Detach().Reshape([.. outputSizes, .. x.Sizes]);
    }
}
