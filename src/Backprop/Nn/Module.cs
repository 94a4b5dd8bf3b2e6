using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;
using System.Text;
using Backprop.IO;

namespace Backprop.Nn;

/// <summary>
/// A layer or model: holds parameters, buffers and child modules, found by reflection over its fields (and
/// auto-properties) of type <see cref="Parameter"/>, <see cref="Module"/>, and arrays or lists of either, plus those
/// registered by hand. Names follow PyTorch (snake_case, list items by index), so state dicts move between the two.
/// Derive from <see cref="Module{TInput, TOutput}"/> to define a forward pass.
/// </summary>
/// <remarks>
/// Member accessors are found once per type; their values are read on each traversal, so replacing a field
/// (<c>model.Head = new Linear(8, 2)</c>) is seen by the next <see cref="Parameters"/> or <see cref="StateDict"/>.
/// </remarks>
public abstract class Module : ICheckpointable
{
    private static readonly ConcurrentDictionary<Type, Member[]> MembersByType = new();

    private List<(string Name, Parameter? Value)>? _registeredParameters;
    private List<(string Name, Module? Value)>? _registeredModules;
    private List<Buffer>? _buffers;
    private NodeOrigin? _scopeOrigin;
    private string? _qualifiedName;
    private bool _training = true;

    /// <summary>True in training mode (the default), false after <see cref="Eval"/>; layers such as dropout read it.</summary>
    public bool IsTraining => _training;

    /// <summary>The module's name from the outermost module that ran it, e.g. <c>Mlp.layers.2</c>.</summary>
    public string QualifiedName
    {
        get
        {
            _ = ScopeOrigin;
            return _qualifiedName!;
        }
    }

    /// <summary>The origin recorded on every node this module's forward pass creates (see <see cref="NodeOrigin"/>).</summary>
    internal NodeOrigin ScopeOrigin => _scopeOrigin ?? AssignScopes(TypeName, root: true);

    /// <summary>The class name without generic arity, as shown in paths and <see cref="ToString"/>.</summary>
    protected string TypeName
    {
        get
        {
            var name = GetType().Name;
            int tick = name.IndexOf('`');
            return tick < 0 ? name : name[..tick];
        }
    }

    // ---- registration ----

    /// <summary>Adds a parameter under <paramref name="name"/> (for parameters not held in a field); null removes it from state dicts.</summary>
    public void RegisterParameter(string name, Parameter? parameter)
    {
        CheckName(name, "RegisterParameter");
        Upsert(_registeredParameters ??= [], name, parameter);
    }

    /// <summary>Adds a child module under <paramref name="name"/> (for children not held in a field).</summary>
    public void RegisterModule(string name, Module? module)
    {
        CheckName(name, "RegisterModule");
        if (ReferenceEquals(module, this)) throw new ArgumentException($"RegisterModule: a module cannot be its own child ('{name}').");
        Upsert(_registeredModules ??= [], name, module);
        if (module is not null && _qualifiedName is not null) module.AssignScopes(_qualifiedName + "." + name, root: false);
    }

    /// <summary>
    /// Adds a tensor that is state but not learnable (running statistics, class weights). Persistent buffers are saved
    /// in <see cref="StateDict"/>. Registering a name again replaces the tensor.
    /// </summary>
    public void RegisterBuffer(string name, Tensor? tensor, bool persistent = true)
    {
        CheckName(name, "RegisterBuffer");
        _buffers ??= [];
        int i = _buffers.FindIndex(b => b.Name == name);
        var buffer = new Buffer(name, tensor, persistent);
        if (i >= 0) _buffers[i] = buffer;
        else _buffers.Add(buffer);
    }

    /// <summary>The buffer registered as <paramref name="name"/> on this module (null if it holds none).</summary>
    public Tensor? GetBuffer(string name)
    {
        if (_buffers is null) return null;
        foreach (var b in _buffers)
            if (b.Name == name) return b.Value;
        return null;
    }

    private static void Upsert<T>(List<(string Name, T? Value)> list, string name, T? value) where T : class
    {
        int i = list.FindIndex(e => e.Name == name);
        if (i >= 0) list[i] = (name, value);
        else list.Add((name, value));
    }

    private void CheckName(string name, string op)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"{op}: '{name}' is not a valid name (it must be non-empty and contain no '.').");
        bool Clashes<T>(List<(string Name, T? Value)>? list) where T : class => list is not null && list.Exists(e => e.Name == name);
        bool taken = MembersOf(GetType()).Any(m => m.Name == name)
            || (op != "RegisterParameter" && Clashes(_registeredParameters))
            || (op != "RegisterModule" && Clashes(_registeredModules))
            || (op != "RegisterBuffer" && _buffers is not null && _buffers.Exists(b => b.Name == name));
        if (taken) throw new ArgumentException($"{op}: {TypeName} already has a member named '{name}'.");
    }

    // ---- traversal ----

    /// <summary>This module's own parameters (not its children's), with their names.</summary>
    private IEnumerable<(string Name, Parameter Value)> DirectParameters()
    {
        foreach (var member in MembersOf(GetType()))
        {
            if (member.Kind == MemberKind.Tensor && member.Field.GetValue(this) is Parameter p)
                yield return (member.Name, p);
            else if (member.Kind == MemberKind.TensorList && member.Field.GetValue(this) is IEnumerable items)
            {
                int i = 0;
                foreach (var item in items)
                {
                    if (item is Parameter listed) yield return ($"{member.Name}.{i}", listed);
                    i++;
                }
            }
        }
        if (_registeredParameters is not null)
            foreach (var (name, p) in _registeredParameters)
                if (p is not null) yield return (name, p);
    }

    /// <summary>The direct children, with their names (list items as <c>name.index</c>).</summary>
    public IEnumerable<(string Name, Module Module)> NamedChildren()
    {
        var children = new List<(string, Module)>();
        foreach (var member in MembersOf(GetType()))
        {
            var value = member.Field.GetValue(this);
            if (member.Kind == MemberKind.Module && value is Module child && !ReferenceEquals(child, this))
                children.Add((member.Name, child));
            else if (member.Kind == MemberKind.ModuleList && value is IEnumerable items)
            {
                int i = 0;
                foreach (var item in items)
                {
                    if (item is Module m) children.Add(($"{member.Name}.{i}", m));
                    i++;
                }
            }
        }
        if (_registeredModules is not null)
            foreach (var (name, m) in _registeredModules)
                if (m is not null) children.Add((name, m));
        return children;
    }

    public IEnumerable<Module> Children() => NamedChildren().Select(c => c.Module);

    /// <summary>This module (named "") and every module below it, each once, depth first in declaration order.</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules()
    {
        var result = new List<(string, Module)>();
        var seen = new HashSet<Module>(ReferenceEqualityComparer.Instance);
        void Walk(Module m, string prefix)
        {
            if (!seen.Add(m)) return;
            result.Add((prefix, m));
            foreach (var (name, child) in m.NamedChildren()) Walk(child, Join(prefix, name));
        }
        Walk(this, "");
        return result;
    }

    public IEnumerable<Module> Modules() => NamedModules().Select(m => m.Module);

    /// <summary>Parameters with their state-dict names; a parameter shared by two modules is listed once.</summary>
    /// <param name="recurse">False for this module's own parameters only.</param>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters(bool recurse = true)
    {
        var result = new List<(string, Parameter)>();
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (prefix, module) in ModulesToVisit(recurse))
            foreach (var (name, p) in module.DirectParameters())
                if (seen.Add(p)) result.Add((Join(prefix, name), p));
        return result;
    }

    /// <summary>Every learnable tensor, for an optimizer: <c>new Adam(model.Parameters())</c>.</summary>
    public IEnumerable<Parameter> Parameters(bool recurse = true) => NamedParameters(recurse).Select(p => p.Parameter);

    /// <summary>Buffers (persistent or not) with their names.</summary>
    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers(bool recurse = true)
    {
        var result = new List<(string, Tensor)>();
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (prefix, module) in ModulesToVisit(recurse))
            if (module._buffers is not null)
                foreach (var b in module._buffers)
                    if (b.Value is not null && seen.Add(b.Value)) result.Add((Join(prefix, b.Name), b.Value));
        return result;
    }

    public IEnumerable<Tensor> Buffers(bool recurse = true) => NamedBuffers(recurse).Select(b => b.Buffer);

    private IEnumerable<(string Name, Module Module)> ModulesToVisit(bool recurse) => recurse ? NamedModules() : [("", this)];

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    // ---- modes and gradients ----

    /// <summary>Sets training mode on this module and every module below it.</summary>
    public void Train(bool training = true)
    {
        foreach (var m in Modules()) m._training = training;
    }

    /// <summary>Evaluation mode: dropout passes inputs through, normalisation uses running statistics.</summary>
    public void Eval() => Train(false);

    /// <summary>Clears the gradient of every parameter (to null by default; see <see cref="Tensor.ZeroGrad"/>).</summary>
    public void ZeroGrad(bool setToNone = true)
    {
        foreach (var p in Parameters()) p.ZeroGrad(setToNone);
    }

    /// <summary>Calls <paramref name="action"/> on every module below this one, children first, then on this one (e.g. custom initialisation).</summary>
    public void Apply(Action<Module> action)
    {
        foreach (var child in Children()) child.Apply(action);
        action(this);
    }

    // ---- state dict ----

    /// <summary>
    /// Parameters and persistent buffers by PyTorch-style name (<c>fc1.weight</c>, <c>0.bias</c>, <c>bn.running_mean</c>).
    /// The values are detached tensors sharing storage with the module's (as in PyTorch): copy them to keep a snapshot.
    /// </summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var dict = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, tensor) in StateEntries()) dict[key] = tensor.Detach();
        return dict;
    }

    private List<(string Key, Tensor Tensor)> StateEntries()
    {
        var entries = new List<(string, Tensor)>();
        foreach (var (prefix, module) in NamedModules())
        {
            foreach (var (name, p) in module.DirectParameters()) entries.Add((Join(prefix, name), p));
            if (module._buffers is not null)
                foreach (var b in module._buffers)
                    if (b.Persistent && b.Value is not null) entries.Add((Join(prefix, b.Name), b.Value));
        }
        return entries;
    }

    /// <summary>
    /// Copies the tensors of <paramref name="stateDict"/> into this module's parameters and buffers (converting dtype).
    /// Nothing is copied unless the dict fits: a tensor of the wrong shape always fails, and when
    /// <paramref name="strict"/>, so does a key the module lacks or a key of the module the dict lacks.
    /// </summary>
    /// <exception cref="StateDictMismatchException">Lists every missing, unexpected and mis-shaped key.</exception>
    public LoadStateDictResult LoadStateDict(IReadOnlyDictionary<string, Tensor> stateDict, bool strict = true)
    {
        var entries = StateEntries();
        var missing = new List<string>();
        var misShaped = new List<StateDictShapeMismatch>();
        var expected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, target) in entries)
        {
            expected.Add(key);
            if (!stateDict.TryGetValue(key, out var source)) missing.Add(key);
            else if (source.Shape != target.Shape) misShaped.Add(new StateDictShapeMismatch(key, target.Shape, source.Shape));
        }
        var unexpected = stateDict.Keys.Where(k => !expected.Contains(k)).Order(StringComparer.Ordinal).ToList();
        if (misShaped.Count > 0 || (strict && (missing.Count > 0 || unexpected.Count > 0)))
            throw new StateDictMismatchException(TypeName, missing, unexpected, misShaped);
        using (Autograd.NoGrad())
            foreach (var (key, target) in entries)
                if (stateDict.TryGetValue(key, out var source)) target.CopyFrom(source);
        return new LoadStateDictResult(missing, unexpected);
    }

    /// <summary>Adds a copy of <see cref="StateDict"/> to the checkpoint, each key prefixed.</summary>
    public void SaveState(Checkpoint checkpoint, string prefix)
    {
        using (Autograd.NoGrad())
            foreach (var (key, tensor) in StateEntries())
                checkpoint.Tensors[prefix + key] = tensor.Detach().Clone();
    }

    /// <summary>Loads the entries saved under <paramref name="prefix"/> with <see cref="LoadStateDict"/> (strict).</summary>
    public void LoadState(Checkpoint checkpoint, string prefix)
    {
        var dict = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, tensor) in checkpoint.Tensors)
            if (key.StartsWith(prefix, StringComparison.Ordinal)) dict[key[prefix.Length..]] = tensor;
        LoadStateDict(dict);
    }

    // ---- description ----

    /// <summary>This module's settings for <see cref="ToString"/>, e.g. <c>inFeatures: 2, outFeatures: 4</c>.</summary>
    protected virtual string ExtraDescription => "";

    /// <summary>The module tree in PyTorch's layout: <c>Linear(inFeatures: 2, outFeatures: 4, bias: True)</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        Describe(sb, "");
        return sb.ToString();
    }

    private void Describe(StringBuilder sb, string indent)
    {
        sb.Append(TypeName).Append('(').Append(ExtraDescription);
        var children = NamedChildren().ToList();
        if (children.Count > 0)
        {
            sb.Append('\n');
            foreach (var (name, child) in children)
            {
                sb.Append(indent).Append("  (").Append(name).Append("): ");
                child.Describe(sb, indent + "  ");
                sb.Append('\n');
            }
            sb.Append(indent);
        }
        sb.Append(')');
    }

    // ---- module scopes for autograd ----

    /// <summary>Names this module and every module below it, for the origins their nodes record.</summary>
    private NodeOrigin AssignScopes(string qualifiedName, bool root)
    {
        foreach (var (path, m) in NamedModules())
        {
            var name = path.Length == 0 ? qualifiedName : qualifiedName + "." + path;
            m._qualifiedName = name;
            m._scopeOrigin = NodeOrigin.ForModule(root && path.Length == 0 ? name : $"{name} ({m.TypeName})");
        }
        return _scopeOrigin!;
    }

    // ---- discovery ----

    private enum MemberKind { Tensor, Module, ModuleList, TensorList }

    private sealed record Member(string Name, MemberKind Kind, FieldInfo Field);

    private sealed record Buffer(string Name, Tensor? Value, bool Persistent);

    private static Member[] MembersOf(Type type) => MembersByType.GetOrAdd(type, Discover);

    private static Member[] Discover(Type type)
    {
        var chain = new List<Type>();
        for (var t = type; t is not null && t != typeof(Module); t = t.BaseType) chain.Add(t);
        chain.Reverse();
        var members = new List<Member>();
        const BindingFlags Flags = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        foreach (var t in chain)
        {
            foreach (var field in t.GetFields(Flags).OrderBy(f => f.MetadataToken))
            {
                if (KindOf(field.FieldType) is not { } kind) continue;
                var (name, property) = SourceName(field);
                if (field.IsDefined(typeof(IgnoreDiscoveryAttribute)) || property?.IsDefined(typeof(IgnoreDiscoveryAttribute)) == true) continue;
                members.Add(new Member(ToSnakeCase(name), kind, field));
            }
        }
        var duplicate = members.GroupBy(m => m.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new InvalidOperationException(
                $"{type.Name}: members {string.Join(" and ", duplicate.Select(m => m.Field.Name))} both map to the state-dict name " +
                $"'{duplicate.Key}'. Rename one, or mark one [IgnoreDiscovery].");
        return members.ToArray();
    }

    private static MemberKind? KindOf(Type type)
    {
        if (typeof(Tensor).IsAssignableFrom(type)) return MemberKind.Tensor;
        if (typeof(Module).IsAssignableFrom(type)) return MemberKind.Module;
        if (type == typeof(string)) return null;
        var enumerable = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IEnumerable<>)
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>));
        if (enumerable is null) return null;
        var item = enumerable.GetGenericArguments()[0];
        return typeof(Module).IsAssignableFrom(item) ? MemberKind.ModuleList
            : typeof(Tensor).IsAssignableFrom(item) ? MemberKind.TensorList
            : null;
    }

    /// <summary>The name the user wrote: an auto-property's for its backing field, a primary-constructor parameter's for its capture.</summary>
    private static (string Name, PropertyInfo? Property) SourceName(FieldInfo field)
    {
        var name = field.Name;
        if (name.StartsWith('<'))
        {
            int close = name.IndexOf('>');
            var source = name[1..close];
            var property = name.EndsWith("k__BackingField", StringComparison.Ordinal)
                ? field.DeclaringType!.GetProperty(source, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
                : null;
            return (source, property);
        }
        return (name.TrimStart('_'), null);
    }

    /// <summary>PyTorch's attribute style from a C# member name: <c>Fc1</c> → <c>fc1</c>, <c>RunningMean</c> → <c>running_mean</c>.</summary>
    internal static string ToSnakeCase(string name)
    {
        var sb = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c))
            {
                bool boundary = i > 0 && name[i - 1] != '_' &&
                    (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]) ||
                     (char.IsUpper(name[i - 1]) && i + 1 < name.Length && char.IsLower(name[i + 1])));
                if (boundary) sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            else sb.Append(c);
        }
        return sb.ToString();
    }
}
