using Tether.Adapters.Internal;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Tether.Adapters;

/// <summary>
/// Reads contract specs from YAML: one contract per YAML document (a file may hold several, separated by <c>---</c>).
/// Every error is reported with its file, line and column; reading never stops at the first.
/// </summary>
/// <remarks>
/// The format is described by <c>contract.schema.json</c> (shipped beside this assembly, and as the embedded resource
/// <c>Tether.Adapters.contract.schema.json</c>) so editors can check and complete specs. A minimal contract:
/// <code>
/// message: Orders.PlaceOrder
/// rules:
///   - field: quantity
///     range: { min: 1, max: 100 }
/// </code>
/// </remarks>
public static class ContractSpecReader
{
    /// <summary>The deepest nesting of lists and mappings a spec may have (a contract needs a few levels).</summary>
    private const int MaxDepth = 64;

    /// <summary>The file extensions read from directories.</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".yaml", ".yml"];

    /// <summary>Reads the specs in <paramref name="yaml"/>; <paramref name="file"/> names it in errors.</summary>
    public static SpecReadResult Read(string yaml, string file)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentNullException.ThrowIfNull(file);
        var specs = new List<ContractSpec>();
        var errors = new List<SpecError>();
        ReadInto(yaml, file, specs, errors);
        SpecChecker.CheckDuplicates(specs, errors);
        return new SpecReadResult(specs, Sorted(errors));
    }

    /// <summary>Reads one file.</summary>
    public static SpecReadResult ReadFile(string path) => ReadPaths([path]);

    /// <summary>
    /// Reads files, and directories recursively (their <c>*.yaml</c> and <c>*.yml</c> files, in name order); checks that no
    /// message type has two contracts across all of them. A path that does not exist is an error.
    /// </summary>
    public static SpecReadResult ReadPaths(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var specs = new List<ContractSpec>();
        var errors = new List<SpecError>();
        foreach (string path in paths)
        {
            foreach (string file in ExpandPath(path, errors))
            {
                string text;
                try
                {
                    text = File.ReadAllText(file);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    errors.Add(new(new SpecLocation(file, 1, 1), $"cannot read the file: {ex.Message}"));
                    continue;
                }

                ReadInto(text, file, specs, errors);
            }
        }

        SpecChecker.CheckDuplicates(specs, errors);
        return new SpecReadResult(specs, Sorted(errors));
    }

    /// <summary>The files a path stands for: itself, or the spec files under a directory in ordinal name order.</summary>
    public static IReadOnlyList<string> ExpandPath(string path, List<SpecError> errors)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(errors);
        if (File.Exists(path))
        {
            return [path];
        }

        if (Directory.Exists(path))
        {
            return Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                .Where(f => Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
                .Order(StringComparer.Ordinal)
                .ToList();
        }

        errors.Add(new(new SpecLocation(path, 1, 1), "no such file or directory"));
        return [];
    }

    private static List<SpecError> Sorted(List<SpecError> errors)
        => errors.Select((e, i) => (e, i))
            .OrderBy(x => x.e.Location?.File ?? "", StringComparer.Ordinal)
            .ThenBy(x => x.e.Location?.Line ?? 0)
            .ThenBy(x => x.e.Location?.Column ?? 0)
            .ThenBy(x => x.i)
            .Select(x => x.e)
            .ToList();

    private static void ReadInto(string yaml, string file, List<ContractSpec> specs, List<SpecError> errors)
    {
        var stream = new YamlStream();
        var scanner = new Scanner(new StringReader(yaml));
        try
        {
            // First a pass over the parser's events, which runs without recursion, to refuse nesting deep enough to
            // overflow the stack of the recursive loader below (hostile input, such as 100,000 '[').
            var parser = new Parser(scanner);
            int depth = 0;
            while (parser.MoveNext())
            {
                if (parser.Current is SequenceStart or MappingStart && ++depth > MaxDepth)
                {
                    Mark at = parser.Current.Start;
                    errors.Add(new(new SpecLocation(file, ToInt(at.Line), ToInt(at.Column)), $"this is nested more than {MaxDepth} levels deep; a contract needs a few"));
                    return;
                }

                if (parser.Current is SequenceEnd or MappingEnd)
                {
                    depth--;
                }
            }

            scanner = new Scanner(new StringReader(yaml));
            stream.Load(new Parser(scanner));
        }
        catch (YamlException ex)
        {
            string why = ex.InnerException?.Message ?? ex.Message;
            errors.Add(new(new SpecLocation(file, ToInt(ex.Start.Line), ToInt(ex.Start.Column)), $"this is not valid YAML: {Clean(why)}"));
            return;
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or IndexOutOfRangeException or NullReferenceException or FormatException or OverflowException)
        {
            // YamlDotNet's scanner throws unpositioned exceptions on some malformed input (an unclosed flow sequence
            // followed by another line throws InvalidOperationException); the scanner's position is where it gave up.
            Mark at = scanner.CurrentPosition;
            errors.Add(new(new SpecLocation(file, ToInt(at.Line), ToInt(at.Column)), $"this is not valid YAML: the YAML reader stopped here; look for an unclosed [, {{ or quote on this line or the lines before ({ex.GetType().Name})"));
            return;
        }

        foreach (YamlDocument document in stream.Documents)
        {
            if (document.RootNode is YamlScalarNode { Value: null or "" })
            {
                continue; // an empty document, such as a file of comments
            }

            var reader = new SpecDocumentReader(file, errors);
            if (reader.ReadContract(document.RootNode) is { } spec)
            {
                SpecChecker.Check(spec, errors);
                specs.Add(spec);
            }
        }
    }

    private static string Clean(string text)
    {
        // YamlDotNet prefixes marks such as "(Line: 3, Col: 5, Idx: 20) - (...): "; the location is reported separately.
        int marker = text.LastIndexOf("): ", StringComparison.Ordinal);
        return marker >= 0 && text.StartsWith("(Line", StringComparison.Ordinal) ? text[(marker + 3)..] : text;
    }

    internal static int ToInt(long value) => (int)Math.Clamp(value, 1, int.MaxValue);
}
