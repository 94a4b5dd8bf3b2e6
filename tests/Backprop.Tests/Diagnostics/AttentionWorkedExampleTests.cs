using Backprop.Diagnostics;

namespace Backprop.Tests.Diagnostics;

public class AttentionWorkedExampleTests
{
    private static double[,] Values(Tensor t)
    {
        var flat = t.ToArray<double>();
        var m = new double[t.Size(0), t.Size(1)];
        for (int i = 0; i < m.GetLength(0); i++)
            for (int j = 0; j < m.GetLength(1); j++) m[i, j] = flat[i * m.GetLength(1) + j];
        return m;
    }

    private static void Close(double[,] expected, Tensor actual, string what)
    {
        var a = Values(actual);
        Assert.Equal(expected.GetLength(0), a.GetLength(0));
        for (int i = 0; i < expected.GetLength(0); i++)
            for (int j = 0; j < expected.GetLength(1); j++)
                Assert.True(Math.Abs(a[i, j] - expected[i, j]) <= 1e-12 * (1 + Math.Abs(expected[i, j])),
                    $"{what}[{i},{j}]: engine {a[i, j]:R}, hand derivation {expected[i, j]:R}");
    }

    [Fact]
    public void Every_figure_equals_a_hand_derivation()
    {
        var e = AttentionWorkedExample.Create();
        double[,] q = { { 1.0, 0.5 }, { -0.5, 1.0 } }, k = { { 0.8, -0.2 }, { 0.3, 0.9 } }, v = { { 1.0, 2.0 }, { -1.0, 0.5 } }, y = { { 0.5, 1.0 }, { 0.0, 0.0 } };
        double c = 1 / Math.Sqrt(2);
        var s = new double[2, 2];
        var a = new double[2, 2];
        var o = new double[2, 2];
        for (int i = 0; i < 2; i++)
        {
            for (int j = 0; j < 2; j++) s[i, j] = (q[i, 0] * k[j, 0] + q[i, 1] * k[j, 1]) * c;
            double z = Math.Exp(s[i, 0]) + Math.Exp(s[i, 1]);
            for (int j = 0; j < 2; j++) a[i, j] = Math.Exp(s[i, j]) / z;
            for (int j = 0; j < 2; j++) o[i, j] = a[i, 0] * v[0, j] + a[i, 1] * v[1, j];
        }
        double loss = 0;
        var dO = new double[2, 2];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++) { dO[i, j] = o[i, j] - y[i, j]; loss += 0.5 * dO[i, j] * dO[i, j]; }
        var dV = new double[2, 2];
        var dA = new double[2, 2];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
            {
                dV[i, j] = a[0, i] * dO[0, j] + a[1, i] * dO[1, j];   // Aᵀ·∂L/∂O
                dA[i, j] = dO[i, 0] * v[j, 0] + dO[i, 1] * v[j, 1];   // ∂L/∂O·Vᵀ
            }
        var dS = new double[2, 2];
        for (int i = 0; i < 2; i++)
        {
            // J = diag(a) − a·aᵀ, so ∂L/∂s_j = a_j (∂L/∂a_j − Σ_m a_m ∂L/∂a_m).
            var jacobian = new double[2, 2];
            for (int r = 0; r < 2; r++)
                for (int m = 0; m < 2; m++) jacobian[r, m] = (r == m ? a[i, r] : 0) - a[i, r] * a[i, m];
            Close(jacobian, e.SoftmaxJacobians[i], $"J{i + 1}");
            double dot = a[i, 0] * dA[i, 0] + a[i, 1] * dA[i, 1];
            for (int j = 0; j < 2; j++) dS[i, j] = a[i, j] * (dA[i, j] - dot);
        }
        var dQ = new double[2, 2];
        var dK = new double[2, 2];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
            {
                dQ[i, j] = (dS[i, 0] * k[0, j] + dS[i, 1] * k[1, j]) * c;
                dK[i, j] = (dS[0, i] * q[0, j] + dS[1, i] * q[1, j]) * c;
            }
        Close(s, e.Scores, "S");
        Close(a, e.Weights, "A");
        Close(o, e.Output, "O");
        Assert.True(Math.Abs(e.Loss.ToArray<double>()[0] - loss) <= 1e-12 * loss, "L");
        Close(dO, e.GradOutput, "∂L/∂O");
        Close(dV, e.GradValue, "∂L/∂V");
        Close(dA, e.GradWeights, "∂L/∂A");
        Close(dS, e.GradScores, "∂L/∂S");
        Close(dQ, e.GradQuery, "∂L/∂Q");
        Close(dK, e.GradKey, "∂L/∂K");
        Assert.True(e.FusedOpDifference <= 1e-12, $"the fused ScaledDotProductAttention differs from the step-by-step graph by {e.FusedOpDifference:E2}");
    }

    [Fact]
    public void Mismatched_shapes_are_rejected()
    {
        Assert.Throws<ShapeMismatchException>(() => AttentionWorkedExample.Create([[1.0, 2.0]], [[1.0]], [[1.0]], [[1.0]]));
    }
}
