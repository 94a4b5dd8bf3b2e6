using System.Globalization;
using System.Text;

namespace Backprop.Diagnostics;

/// <summary>Records the norm of the gradient each node receives during a backward pass, for graph labels.</summary>
public sealed class GradientNormRecorder : IDisposable
{
    private readonly Dictionary<Node, double> _norms = new(ReferenceEqualityComparer.Instance);
    private readonly List<RemovableHandle> _handles = [];

    /// <summary>Hooks every node reachable from <paramref name="root"/>; call before Backward.</summary>
    public static GradientNormRecorder Attach(Tensor root)
    {
        var recorder = new GradientNormRecorder();
        foreach (var node in GraphWalk.Nodes(root))
            recorder._handles.Add(node.RegisterPostHook((n, g, _) =>
            {
                using (Autograd.NoGrad()) recorder._norms[n] = g.Norm().Item();
            }));
        return recorder;
    }

    public IReadOnlyDictionary<Node, double> Norms => _norms;

    public void Dispose()
    {
        foreach (var h in _handles) h.Dispose();
        _handles.Clear();
    }
}

internal static class GraphWalk
{
    /// <summary>Every node reachable from the tensor's producer (or its leaf accumulator), each once, depth-first.</summary>
    public static List<Node> Nodes(Tensor root)
    {
        var result = new List<Node>();
        var seen = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<Node>();
        if (root.GradEdge is { } start) stack.Push(start);
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            if (!seen.Add(node)) continue;
            result.Add(node);
            for (int i = node.NextFunctions.Count - 1; i >= 0; i--)
                if (node.NextFunctions[i] is { } next) stack.Push(next);
        }
        return result;
    }
}

/// <summary>Options for <see cref="GraphExport"/>.</summary>
public sealed record GraphExportOptions
{
    /// <summary>Names for leaf tensors (e.g. from a module's NamedParameters); a leaf's own Name is used otherwise.</summary>
    public IReadOnlyDictionary<Tensor, string>? LeafNames { get; init; }

    /// <summary>Gradient norms recorded during backward (shown on each node).</summary>
    public IReadOnlyDictionary<Node, double>? GradientNorms { get; init; }

    /// <summary>Show the bytes each node keeps for backward.</summary>
    public bool ShowSavedBytes { get; init; }
}

/// <summary>
/// The backward graph of a tensor as Graphviz DOT or Mermaid text: one box per op (its name, output shape and, after a
/// recorded backward, the norm of the gradient it received), one ellipse per leaf parameter (with its gradient's norm),
/// arrows in the direction the forward pass ran.
/// </summary>
public static class GraphExport
{
    public static string ToDot(Tensor root, GraphExportOptions? options = null)
    {
        options ??= new GraphExportOptions();
        var nodes = GraphWalk.Nodes(root);
        var ids = Ids(nodes);
        var sb = new StringBuilder();
        sb.AppendLine("digraph backward {");
        sb.AppendLine("  rankdir=BT;");
        sb.AppendLine("  node [fontname=\"Helvetica\", fontsize=10];");
        foreach (var node in nodes)
        {
            var label = string.Join("\\n", Label(node, options)).Replace("\"", "\\\"");
            var style = node is AccumulateGrad ? "shape=ellipse, style=filled, fillcolor=\"#dbeafe\"" : "shape=box, style=rounded";
            sb.AppendLine($"  {ids[node]} [label=\"{label}\", {style}];");
        }
        foreach (var node in nodes)
            foreach (var next in node.NextFunctions)
                if (next is not null) sb.AppendLine($"  {ids[next]} -> {ids[node]};");
        sb.AppendLine("}");
        return sb.ToString();
    }

    public static string ToMermaid(Tensor root, GraphExportOptions? options = null)
    {
        options ??= new GraphExportOptions();
        var nodes = GraphWalk.Nodes(root);
        var ids = Ids(nodes);
        var sb = new StringBuilder();
        sb.AppendLine("flowchart BT");
        foreach (var node in nodes)
        {
            var label = string.Join("<br/>", Label(node, options)).Replace("\"", "#quot;");
            sb.AppendLine(node is AccumulateGrad ? $"  {ids[node]}([\"{label}\"])" : $"  {ids[node]}[\"{label}\"]");
        }
        foreach (var node in nodes)
            foreach (var next in node.NextFunctions)
                if (next is not null) sb.AppendLine($"  {ids[next]} --> {ids[node]}");
        return sb.ToString();
    }

    private static Dictionary<Node, string> Ids(List<Node> nodes)
    {
        var ids = new Dictionary<Node, string>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < nodes.Count; i++) ids[nodes[i]] = "n" + i.ToString(CultureInfo.InvariantCulture);
        return ids;
    }

    private static IEnumerable<string> Label(Node node, GraphExportOptions options)
    {
        if (node is AccumulateGrad leaf)
        {
            string name = (options.LeafNames is not null && options.LeafNames.TryGetValue(leaf.Leaf, out var n) ? n : leaf.Leaf.Name) ?? "leaf";
            yield return $"{name} {leaf.Leaf.Shape}";
            if (leaf.Leaf.Grad is { } grad)
            {
                double norm;
                using (Autograd.NoGrad()) norm = grad.Norm().Item();
                yield return "‖grad‖ = " + norm.ToString("G4", CultureInfo.InvariantCulture);
            }
            yield break;
        }
        yield return node.Name;
        yield return node.OutputShape.ToString();
        if (node.Origin?.ModulePath is { } module) yield return module;
        if (options.GradientNorms is not null && options.GradientNorms.TryGetValue(node, out var g))
            yield return "‖∂L/∂out‖ = " + g.ToString("G4", CultureInfo.InvariantCulture);
        if (options.ShowSavedBytes && node.SavedBytes > 0) yield return "saves " + SavedTensorReport.FormatBytes(node.SavedBytes);
    }
}
