namespace Backprop.Backends.Cpu;

/// <summary>Functions the BCL lacks, accurate to double precision so float64 gradient checks can rely on them.</summary>
internal static partial class SpecialFunctions
{
    private const double TwoOverSqrtPi = 1.1283791670955126;

    /// <summary>
    /// The error function. For |x| &lt; 3 the all-positive series erf(x) = 2/√π·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1))
    /// (no cancellation); beyond, erfc's continued fraction (modified Lentz), which converges fast for large |x|.
    /// </summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        double ax = Math.Abs(x);
        double result = ax < 3.0 ? ErfSeries(ax) : 1.0 - ErfcContinuedFraction(ax);
        return x < 0 ? -result : result;
    }

    private static double ErfSeries(double x)
    {
        double x2 = x * x;
        double term = x;
        double sum = x;
        for (int n = 1; n < 200; n++)
        {
            term *= 2.0 * x2 / (2 * n + 1);
            sum += term;
            if (term < 1e-17 * sum) break;
        }
        return TwoOverSqrtPi * Math.Exp(-x2) * sum;
    }

    // erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))
    private static double ErfcContinuedFraction(double x)
    {
        if (x > 27) return 0.0;
        const double tiny = 1e-300;
        double f = x, c = x, d = 0.0;
        for (int n = 1; n < 500; n++)
        {
            double a = n * 0.5;
            d = x + a * d;
            if (Math.Abs(d) < tiny) d = tiny;
            c = x + a / c;
            if (Math.Abs(c) < tiny) c = tiny;
            d = 1.0 / d;
            double delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1.0) < 1e-16) break;
        }
        return Math.Exp(-x * x) / (f * Math.Sqrt(Math.PI));
    }
}
