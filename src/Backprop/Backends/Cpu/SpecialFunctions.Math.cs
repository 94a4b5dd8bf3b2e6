namespace Backprop.Backends.Cpu;

internal static partial class SpecialFunctions
{
    /// <summary>
    /// eˣ − 1 to within a few ulps for every x, including tiny ones where exp(x) − 1 keeps no digits (the BCL's
    /// double.ExpM1 and TensorPrimitives.ExpM1 are exp(x) − 1: 1e−10 came out as 1.00000008e−10). Kahan's trick: with
    /// u = eˣ rounded, (u − 1)·x / ln u cancels the rounding error of u.
    /// </summary>
    public static double Expm1(double x)
    {
        double u = Math.Exp(x);
        if (u == 1.0) return x; // |x| below half an ulp of 1 (also keeps −0)
        double um1 = u - 1.0;
        if (um1 == -1.0) return -1.0; // x → −∞
        if (double.IsPositiveInfinity(u)) return u;
        return um1 * x / Math.Log(u);
    }

    /// <summary>
    /// ln(1 + x) to within a few ulps for every x &gt; −1 (the BCL's double.LogP1 is log(x + 1), which loses every digit
    /// of a tiny x). Goldberg's trick: with u = 1 + x rounded, ln u · x / (u − 1) cancels the rounding error of u.
    /// </summary>
    public static double Log1p(double x)
    {
        double u = 1.0 + x;
        if (u == 1.0) return x; // also keeps −0
        if (double.IsPositiveInfinity(u) || u <= 0 || double.IsNaN(u)) return Math.Log(u);
        return Math.Log(u) * x / (u - 1.0);
    }

    /// <summary>
    /// The inverse error function on [−1, 1] (±∞ at ±1, NaN outside and at NaN, −0 at −0), accurate to float64.
    /// Giles' single-precision approximation ("Approximating the erfinv function", GPU Computing Gems, 2011) gives a
    /// start within about 1e−7; Halley steps on erf(x) − y then converge cubically. For |y| ≥ ½ the residual is taken
    /// as (1 − |y|) − erfc(x), where 1 − |y| is exact, so it keeps its relative precision as |y| → 1.
    /// </summary>
    public static double Erfinv(double y)
    {
        if (double.IsNaN(y) || Math.Abs(y) > 1) return double.NaN;
        if (y == 0) return y;
        double a = Math.Abs(y);
        if (a == 1) return double.CopySign(double.PositiveInfinity, y);
        double x = GilesErfinv(a);
        double complement = 1 - a;
        for (int i = 0; i < 8; i++)
        {
            double residual = a < 0.5 ? Erf(x) - a : complement - Erfc(x);
            double newton = residual / (TwoOverSqrtPi * Math.Exp(-x * x));
            // Halley: erf″ = −2x·erf′, so the step is r / (1 + x·r) with r the Newton step.
            double step = newton / (1 + x * newton);
            x -= step;
            if (Math.Abs(step) <= 1e-16 * x) break;
        }
        return double.CopySign(x, y);
    }

    /// <summary>
    /// erfc(x) for x ≥ 0 to float64 relative precision: 1 − erf(x) below 1 (erfc &gt; 0.15 there, so little cancels);
    /// the continued fraction from 1, where it converges within 200 terms (1 − erf(x) lost 1e−13 of erfc at x = 2.3).
    /// </summary>
    private static double Erfc(double x) => x < 1.0 ? 1.0 - ErfSeries(x) : ErfcContinuedFraction(x);

    private static double GilesErfinv(double a)
    {
        double w = -Math.Log((1 - a) * (1 + a));
        double p;
        if (w < 5)
        {
            w -= 2.5;
            p = 2.81022636e-08;
            p = 3.43273939e-07 + p * w;
            p = -3.5233877e-06 + p * w;
            p = -4.39150654e-06 + p * w;
            p = 0.00021858087 + p * w;
            p = -0.00125372503 + p * w;
            p = -0.00417768164 + p * w;
            p = 0.246640727 + p * w;
            p = 1.50140941 + p * w;
        }
        else
        {
            w = Math.Sqrt(w) - 3;
            p = -0.000200214257;
            p = 0.000100950558 + p * w;
            p = 0.00134934322 + p * w;
            p = -0.00367342844 + p * w;
            p = 0.00573950773 + p * w;
            p = -0.0076224613 + p * w;
            p = 0.00943887047 + p * w;
            p = 1.00167406 + p * w;
            p = 2.83297682 + p * w;
        }
        return p * a;
    }
}
