using Backprop.Diagnostics;

namespace Backprop.Tests.Diagnostics;

/// <summary>The worked examples in forward mode and their losses' Hessians, against hand-derived values.</summary>
public class WorkedExampleModesTests
{
    private static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));

    /// <summary>Example b by hand: x = [0.5, 0.8], W1 = [0.4, 0.6], b1 = 0.1, W2 = 0.9, b2 = 0.1, y = 1, L = ½(ŷ − y)².</summary>
    private static double LossB(double[] theta, double x0 = 0.5, double x1 = 0.8f)
    {
        double z1 = theta[0] * x0 + theta[1] * x1 + theta[2];
        double yHat = Sigmoid(theta[3] * Sigmoid(z1) + theta[4]);
        return 0.5 * (yHat - 1) * (yHat - 1);
    }

    private static readonly double[] ThetaB = [0.4f, 0.6f, 0.1f, 0.9f, 0.1f];

    [Fact]
    public void Forward_mode_tangents_of_example_b_are_the_derivatives_with_respect_to_each_input()
    {
        var explanation = WorkedExample.ExplainForward("b");
        Assert.Equal(["x", "z1", "a1", "z2", "ŷ", "y", "L"], explanation.Rows.Select(r => r.Name));
        var z1 = explanation.Rows[1];
        Assert.Equal(2, z1.Tangents.Count);
        // ∂z1/∂x = W1.
        Assert.True(Math.Abs(z1.Tangents[0].Item() - 0.4) <= 1e-6 && Math.Abs(z1.Tangents[1].Item() - 0.6) <= 1e-6,
            $"z1 tangents {z1.Tangents[0].Item()}, {z1.Tangents[1].Item()}");
        // x's own tangents are the basis vectors; y's are zero.
        Assert.Equal([1f, 0f], explanation.Rows[0].Tangents[0].ToArray<float>());
        Assert.Equal([0f], explanation.Rows[5].Tangents[1].ToArray<float>());

        // ∂L/∂xᵢ by central differences of the hand-written loss, against both modes.
        const double h = 1e-6;
        double[] expected = [(LossB(ThetaB, 0.5 + h) - LossB(ThetaB, 0.5 - h)) / (2 * h), (LossB(ThetaB, 0.5, 0.8f + h) - LossB(ThetaB, 0.5, 0.8f - h)) / (2 * h)];
        var forward = explanation.LossRowByForwardMode;
        var reverse = explanation.LossRowByReverseMode.ToArray<float>();
        for (int i = 0; i < 2; i++)
        {
            Assert.True(Math.Abs(forward[i] - expected[i]) <= 1e-6, $"forward ∂L/∂x{i} = {forward[i]}, expected {expected[i]}");
            Assert.True(Math.Abs(reverse[i] - expected[i]) <= 1e-6, $"reverse ∂L/∂x{i} = {reverse[i]}, expected {expected[i]}");
        }
    }

    [Fact]
    public void The_Hessian_of_example_b_matches_second_differences_of_the_hand_written_loss()
    {
        var explanation = WorkedExample.ExplainHessian("b");
        Assert.Equal(["W1[0,0]", "W1[0,1]", "b1[0]", "W2[0,0]", "b2[0]"], explanation.Names);
        var hessian = explanation.Hessian.ToArray<double>();
        const double h = 1e-4;
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 5; j++)
            {
                double At(double di, double dj)
                {
                    var t = (double[])ThetaB.Clone();
                    t[i] += di;
                    t[j] += dj;
                    return LossB(t);
                }
                double expected = (At(h, h) - At(h, -h) - At(-h, h) + At(-h, -h)) / (4 * h * h);
                Assert.True(Math.Abs(hessian[i * 5 + j] - expected) <= 1e-6, $"H[{i},{j}] = {hessian[i * 5 + j]}, second differences {expected}");
            }
        // ∂²L/∂b2² in closed form: with s = ŷ(1 − ŷ), it is s·(s + (ŷ − y)(1 − 2ŷ)).
        double yHat = Sigmoid(ThetaB[3] * Sigmoid(ThetaB[0] * 0.5 + ThetaB[1] * 0.8f + ThetaB[2]) + ThetaB[4]);
        double s = yHat * (1 - yHat);
        Assert.True(Math.Abs(hessian[24] - s * (s + (yHat - 1) * (1 - 2 * yHat))) <= 1e-14, $"∂²L/∂b2² = {hessian[24]}");
    }

    [Fact]
    public void The_Hessian_of_example_a_is_symmetric_and_flat_along_the_inactive_ReLU_unit()
    {
        var explanation = WorkedExample.ExplainHessian("a");
        Assert.Equal(9, explanation.Names.Count);
        var hessian = explanation.Hessian.ToArray<double>();
        for (int i = 0; i < 9; i++)
            for (int j = 0; j < 9; j++)
                Assert.True(Math.Abs(hessian[i * 9 + j] - hessian[j * 9 + i]) <= 1e-15, $"H[{i},{j}] ≠ H[{j},{i}]");
        // Hidden unit 1 has z = 0.5 − 0.6 + 0.1 < 0 in float32: its weights W1[0,·], b1[0] and W2[0,0] get no curvature.
        foreach (var name in new[] { "W1[0,0]", "W1[0,1]", "b1[0]", "W2[0,0]" })
        {
            int row = explanation.Names.ToList().IndexOf(name);
            for (int j = 0; j < 9; j++) Assert.True(hessian[row * 9 + j] == 0, $"H[{name}, {explanation.Names[j]}] = {hessian[row * 9 + j]}");
        }
        // The output unit: L = −log σ(z2) with z2 = W2·a1 + b2, so ∂²L/∂b2² = σ(z2)(1 − σ(z2)).
        double a1 = Math.Max(0, 0.2f * 1.0 + 0.8f * 2.0 + -0.2f);
        double yHat = Sigmoid(-0.5f * a1 + 0.5f);
        Assert.True(Math.Abs(hessian[80] - yHat * (1 - yHat)) <= 1e-12, $"∂²L/∂b2² = {hessian[80]}, expected {yHat * (1 - yHat)}");
        // Over all parameters the loss is not convex: the hidden layer's weights give a negative eigenvalue.
        var eigenvalues = explanation.Eigenvalues.ToArray<double>();
        Assert.True(eigenvalues[0] < -1, string.Join(", ", eigenvalues));
    }
}
