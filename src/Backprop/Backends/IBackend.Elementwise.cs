namespace Backprop;

/// <summary>Element-wise functions of one input. Some take parameters: see <see cref="IBackend.Unary"/>.</summary>
public enum UnaryOp
{
    Neg, Exp, Log, Sqrt, Abs, Sign, Reciprocal, Square, Sin, Cos,
    Tanh, Sigmoid, Relu, Softplus, Gelu, Erf, Floor, Ceil, Round, Log1p, Expm1,
    /// <summary>x if x &gt; 0 else arg0·x.</summary>
    LeakyRelu,
    /// <summary>x if x &gt; 0 else arg0·(eˣ − 1).</summary>
    Elu,
    /// <summary>min(max(x, arg0), arg1).</summary>
    Clamp,
    /// <summary>1 where x &gt; 0, else 0 (the derivative of ReLU, with ReLU′(0) = 0).</summary>
    Step,
    Tan, Atan, Asin, Acos, Sinh, Cosh,
    /// <summary>The inverse of erf on [−1, 1]: ±∞ at ±1, NaN outside.</summary>
    Erfinv,
    /// <summary>Rounds toward zero.</summary>
    Trunc,
}

/// <summary>Element-wise functions of two inputs of equal shape (broadcast inputs arrive with stride 0).</summary>
public enum BinaryOp
{
    Add, Sub, Mul, Div, Pow, Maximum, Minimum,
    /// <summary>Comparisons write true/false into a Bool output (what the library asks for), or 1/0 into an output of the inputs' dtype.</summary>
    Eq, Ne, Lt, Le, Gt, Ge,
    /// <summary>
    /// −[b·log a + (1 − b)·log(1 − a)] with each log clamped at −100 (binary cross-entropy of probability a against
    /// target b). Throws when an a lies outside [0, 1], which almost always means logits were passed.
    /// </summary>
    BinaryCrossEntropy,
    /// <summary>(a − b) / max(a(1 − a), 1e−12): the derivative of <see cref="BinaryCrossEntropy"/> with respect to a.</summary>
    BinaryCrossEntropyGrad,
    /// <summary>a where b &gt; 0, else 0: ReLU's backward from the incoming gradient a and the saved output b.</summary>
    ReluGrad,
    /// <summary>a·b·(1 − b): sigmoid's backward from the incoming gradient a and the saved output b.</summary>
    SigmoidGrad,
    /// <summary>a·(1 − b²): tanh's backward from the incoming gradient a and the saved output b.</summary>
    TanhGrad,
    /// <summary>The angle of the point (b, a): atan2(y = a, x = b), in [−π, π].</summary>
    Atan2,
    /// <summary>√(a² + b²) without overflow or underflow in the squares.</summary>
    Hypot,
    /// <summary>a − ⌊a/b⌋·b: Python's modulo, with the sign of the divisor b (PyTorch's remainder).</summary>
    Remainder,
    /// <summary>a − trunc(a/b)·b: C's fmod, with the sign of the dividend a (PyTorch's fmod).</summary>
    Fmod,
}

public partial interface IBackend
{
    /// <summary>y = op(x), with op's parameters in <paramref name="arg0"/> and <paramref name="arg1"/>.</summary>
    void Unary(UnaryOp op, StridedView x, StridedView y, double arg0 = 0, double arg1 = 0);

    /// <summary>y = op(a, b); a, b and y share one shape and dtype, except that a comparison's y may be Bool.</summary>
    void Binary(BinaryOp op, StridedView a, StridedView b, StridedView y);

    /// <summary>y += alpha·x (BLAS axpy), in place; x has y's shape and dtype.</summary>
    void Axpy(double alpha, StridedView x, StridedView y);

    /// <summary>y = condition ≠ 0 ? a : b; condition may be any dtype.</summary>
    void Where(StridedView condition, StridedView a, StridedView b, StridedView y);
}
