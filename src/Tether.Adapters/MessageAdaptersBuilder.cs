using System.Reflection;
using Tether.Adapters.Internal;

namespace Tether.Adapters;

/// <summary>
/// Gathers contract specs (YAML files, directories, embedded resources, C#), CLR type registrations and named
/// predicates, then binds and compiles them with <see cref="Build"/>. Not thread-safe; use it from the start-up code.
/// </summary>
public sealed class MessageAdaptersBuilder
{
    private readonly ContractRegistry _contracts;
    private readonly Dictionary<string, RegisteredPredicate> _predicates = new(StringComparer.Ordinal);
    private readonly List<ContractSpec> _specs = [];
    private readonly List<SpecError> _errors = [];
    private bool _allowUnregistered;

    internal MessageAdaptersBuilder(ContractRegistry contracts) => _contracts = contracts;

    /// <summary>The registry the builder finds message types in: the one given to <see cref="MessageAdapters.CreateBuilder(ContractRegistry)"/>, or its own.</summary>
    public ContractRegistry Contracts => _contracts;

    /// <summary>
    /// Registers <typeparamref name="T"/> under the contract name <paramref name="contractName"/> in <see cref="Contracts"/>
    /// (better: register it once on the node's registry, or with <see cref="ContractAttribute"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The name or the type is already registered differently, or the name is not a valid contract name.</exception>
    public MessageAdaptersBuilder Register<T>(string contractName) => Register(typeof(T), contractName);

    /// <summary>Registers <paramref name="type"/> under the contract name <paramref name="contractName"/> in <see cref="Contracts"/>.</summary>
    /// <exception cref="ArgumentException">The name or the type is already registered differently, or the name is not a valid contract name.</exception>
    public MessageAdaptersBuilder Register(Type type, string contractName)
    {
        _contracts.Register(type, contractName);
        return this;
    }

    /// <summary>Registers a predicate for <c>custom: NAME</c> rules on fields (or whole messages) of type <typeparamref name="T"/> (or derived).</summary>
    /// <exception cref="ArgumentException">A predicate is already registered under <paramref name="name"/>.</exception>
    public MessageAdaptersBuilder AddPredicate<T>(string name, Func<T, bool> predicate)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(predicate);
        if (!_predicates.TryAdd(name, new RegisteredPredicate(name, typeof(T), predicate)))
        {
            throw new ArgumentException($"A predicate named '{name}' is already registered.", nameof(name));
        }

        return this;
    }

    /// <summary>Adds a contract written in C#.</summary>
    public MessageAdaptersBuilder AddSpec(ContractSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        SpecChecker.Check(spec, _errors);
        _specs.Add(spec);
        return this;
    }

    /// <summary>Adds a contract written with the fluent <see cref="ContractBuilder"/>.</summary>
    public MessageAdaptersBuilder AddContract(string message, Action<ContractBuilder> build)
    {
        ArgumentNullException.ThrowIfNull(build);
        ContractBuilder builder = ContractBuilder.For(message);
        build(builder);
        return AddSpec(builder.Build());
    }

    /// <summary>Adds the contracts in YAML text; <paramref name="file"/> names it in errors.</summary>
    public MessageAdaptersBuilder AddYaml(string yaml, string file) => Add(ContractSpecReader.Read(yaml, file));

    /// <summary>Adds the contracts of a YAML file.</summary>
    public MessageAdaptersBuilder AddFile(string path) => Add(ContractSpecReader.ReadFile(path));

    /// <summary>Adds the contracts of every <c>*.yaml</c> and <c>*.yml</c> file under a directory (such as <c>contracts/</c> beside the messages).</summary>
    public MessageAdaptersBuilder AddDirectory(string path) => Add(ContractSpecReader.ReadPaths([path]));

    /// <summary>
    /// Adds the contracts embedded in <paramref name="assembly"/>: every manifest resource ending in <c>.yaml</c> or <c>.yml</c> whose
    /// name starts with <paramref name="prefix"/> (for example <c>MyApp.contracts.</c>). Errors name the resource.
    /// </summary>
    public MessageAdaptersBuilder AddEmbedded(Assembly assembly, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(assembly);
        ArgumentNullException.ThrowIfNull(prefix);
        foreach (string resource in assembly.GetManifestResourceNames().Order(StringComparer.Ordinal))
        {
            bool yaml = resource.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || resource.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);
            if (!yaml || !resource.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            using Stream stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            AddYaml(reader.ReadToEnd(), $"{assembly.GetName().Name}!{resource}");
        }

        return this;
    }

    /// <summary>
    /// Lets contracts whose message has no registered CLR type be skipped instead of failing <see cref="Build"/> (for a
    /// contracts folder shared by services that each use part of it).
    /// </summary>
    public MessageAdaptersBuilder AllowUnregisteredContracts()
    {
        _allowUnregistered = true;
        return this;
    }

    /// <summary>Binds every contract to its CLR type and compiles the rules, defaults and mappings.</summary>
    /// <exception cref="ContractSpecException">A spec has errors (every one is listed, with file, line and column), two specs
    /// name one message type, or a spec does not fit its CLR type.</exception>
    public MessageAdapters Build()
    {
        var errors = new List<SpecError>(_errors);
        IReadOnlyDictionary<string, Type> types = _contracts.Snapshot();
        SpecChecker.CheckDuplicates(_specs, errors);
        var used = new List<ContractSpec>();
        foreach (ContractSpec spec in _specs)
        {
            if (types.ContainsKey(spec.Message))
            {
                used.Add(spec);
            }
            else if (!_allowUnregistered)
            {
                errors.Add(new(spec.Location, $"{spec.Message} has no CLR type registered{SpecNames.Suggest(spec.Message, types.Keys)}: register its message type under that name (ContractRegistry.Register<T>(\"{spec.Message}\") or [Contract(\"{spec.Message}\")]), or AllowUnregisteredContracts() to skip contracts this node does not use"));
            }
        }

        if (errors.Count == 0)
        {
            var compiler = new ContractCompiler(
                types,
                _predicates,
                errors);
            compiler.Compile(_allowUnregistered ? used.Where(s => s.MapFrom.All(m => types.ContainsKey(m.From))).ToList() : used);
            if (errors.Count == 0)
            {
                return new MessageAdapters(compiler.Contracts, compiler.Maps, used);
            }
        }

        throw new ContractSpecException(errors);
    }

    private MessageAdaptersBuilder Add(SpecReadResult result)
    {
        _specs.AddRange(result.Specs);
        _errors.AddRange(result.Errors);
        return this;
    }
}
