using System.Globalization;

namespace Backprop.Cli;

/// <summary>A mistake in how the command was called or in the files it was given: printed as one line, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// The arguments of one command: positional words and <c>--name value</c> / <c>--flag</c> options, checked against
/// the options the command knows so a typo is reported instead of ignored.
/// </summary>
public sealed class CliArguments
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public CliArguments(string command, IEnumerable<string> args, IReadOnlySet<string> valueOptions, IReadOnlySet<string> flags)
    {
        Command = command;
        var list = args.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            var arg = list[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                Positional.Add(arg);
                continue;
            }
            var name = arg[2..];
            string? inlineValue = null;
            int eq = name.IndexOf('=');
            if (eq >= 0)
            {
                inlineValue = name[(eq + 1)..];
                name = name[..eq];
            }
            if (flags.Contains(name))
            {
                _options[name] = inlineValue ?? "true";
            }
            else if (valueOptions.Contains(name))
            {
                if (inlineValue is null)
                {
                    if (i + 1 >= list.Count) throw new UsageException($"backprop {command}: option --{name} needs a value.");
                    inlineValue = list[++i];
                }
                _options[name] = inlineValue;
            }
            else
            {
                var known = valueOptions.Concat(flags).Select(o => "--" + o).OrderBy(o => o);
                throw new UsageException($"backprop {command}: unknown option '--{name}'. Known options: {string.Join(", ", known)}.");
            }
        }
    }

    public string Command { get; }

    public List<string> Positional { get; } = [];

    public bool Flag(string name) => _options.TryGetValue(name, out var v) && v != "false";

    public string? String(string name) => _options.GetValueOrDefault(name);

    public int Int(string name, int fallback, int min = int.MinValue)
    {
        if (!_options.TryGetValue(name, out var text) || text is null) return fallback;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < min)
            throw new UsageException($"backprop {Command}: --{name} must be an integer{(min > int.MinValue ? $" ≥ {min}" : "")}; got '{text}'.");
        return value;
    }

    public double Double(string name, double fallback, double min = double.NegativeInfinity)
    {
        if (!_options.TryGetValue(name, out var text) || text is null) return fallback;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || double.IsNaN(value) || value < min)
            throw new UsageException($"backprop {Command}: --{name} must be a number{(min > double.NegativeInfinity ? $" ≥ {min}" : "")}; got '{text}'.");
        return value;
    }

    public T Choice<T>(string name, T fallback, IReadOnlyDictionary<string, T> choices)
    {
        if (!_options.TryGetValue(name, out var text) || text is null) return fallback;
        if (choices.TryGetValue(text.ToLowerInvariant(), out var value)) return value;
        throw new UsageException($"backprop {Command}: --{name} must be one of {string.Join(", ", choices.Keys)}; got '{text}'.");
    }

    /// <summary>The single positional argument, chosen from <paramref name="choices"/>, or <paramref name="fallback"/> when absent.</summary>
    public string Target(IReadOnlyCollection<string> choices, string? fallback)
    {
        if (Positional.Count > 1)
            throw new UsageException($"backprop {Command}: expected one of {string.Join("|", choices)}, got '{string.Join(" ", Positional)}'.");
        var target = Positional.Count == 1 ? Positional[0].ToLowerInvariant() : fallback
            ?? throw new UsageException($"backprop {Command}: say which one: {string.Join("|", choices)}.");
        if (!choices.Contains(target))
            throw new UsageException($"backprop {Command}: unknown '{target}'; expected one of {string.Join("|", choices)}.");
        return target;
    }
}
