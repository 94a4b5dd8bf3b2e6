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

    [Fact]
    public void Every_op_class_is_twice_differentiable_or_declared_once_differentiable()
    {
        var opTypes = GradcheckCatalog.OpTypes.ToList();
        var uncovered = opTypes
            .Where(t => !GradcheckCatalog.IsOnceDifferentiable(t) && !GradcheckCatalog.SecondOrder.Any(c => c.Op == t))
            .Select(t => t.Name)
            .ToList();
        Assert.True(uncovered.Count == 0, "Op classes neither in the second-order table nor declared once-differentiable: " + string.Join(", ", uncovered));

        // Once-differentiable is the exception, justified where it is declared, and enforced by the engine.
        var once = GradcheckCatalog.OnceDifferentiable.ToList();
        Assert.True(once.Count * 10 <= opTypes.Count,
            $"{once.Count} of {opTypes.Count} op classes are once-differentiable: " + string.Join(", ", once.Select(o => o.Op.Name)));
        foreach (var (op, reason) in once)
        {
            Assert.True(reason.Length >= 20, $"{op.Name} declares itself once-differentiable without a reason.");
            var row = GradcheckCatalog.All.First(c => c.Op == op).Case;
            var error = Assert.Throws<InvalidOperationException>(() => Gradgradcheck.Run(row, seed: 1));
            Assert.Contains("is once-differentiable: its backward cannot be differentiated (createGraph)", error.Message);
        }
    }
}
