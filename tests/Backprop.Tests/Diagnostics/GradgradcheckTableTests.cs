using Backprop.Diagnostics;

namespace Backprop.Tests.Diagnostics;

/// <summary>
/// The second-order table: every first-order row, unless its op class is declared once-differentiable, checked by
/// gradgradcheck (the Jacobian of vᵀ∂f/∂x built by double backward, against finite differences of the first derivative).
/// </summary>
public class GradgradcheckTableTests
{
    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var (_, c) in GradcheckCatalog.SecondOrder) data.Add(c.ToString());
        return data;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Op_second_derivative_matches_finite_differences(string name)
    {
        var testCase = GradcheckCatalog.SecondOrder.Single(c => c.Case.ToString() == name).Case;
        var result = Gradgradcheck.Run(testCase, seed: 1);
        Assert.True(result.Passed, $"{name}: {result}");
    }
}
