namespace Tether.Adapters.Internal;

/// <summary>
/// Binds contract specs to their CLR types and compiles them: every rule becomes a typed <see cref="Check"/>, defaults and
/// mappings become compiled stages. All reflection happens here, once; every error found is collected with its location.
/// </summary>
/// <remarks>
/// Cut along its features: this file binds specs to types and wires the contracts together; <c>ContractCompiler.Rules.cs</c>
/// compiles rules into checks and <c>ContractCompiler.Maps.cs</c> compiles defaults and mappings into stages.
/// </remarks>
internal sealed partial class ContractCompiler(
    IReadOnlyDictionary<string, Type> types,
    IReadOnlyDictionary<string, RegisteredPredicate> predicates,
    List<SpecError> errors)
{
    private readonly Dictionary<string, CompiledContract> _contracts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ContractRef> _refs = new(StringComparer.Ordinal);
    private readonly Dictionary<(Type From, Type To), MapStage> _maps = [];

    public IReadOnlyDictionary<string, CompiledContract> Contracts => _contracts;

    public IReadOnlyCollection<MapStage> Maps => _maps.Values;

    public void Compile(IReadOnlyList<ContractSpec> specs)
    {
        foreach (ContractSpec spec in specs)
        {
            if (types.TryGetValue(spec.Message, out Type? type))
            {
                _contracts[spec.Message] = new CompiledContract(spec, type);
            }
        }

        foreach (CompiledContract contract in _contracts.Values)
        {
            contract.Checks = contract.Spec.Rules.Select(rule => CompileRule(contract.Spec, contract.Type, rule, "")).OfType<Check>().ToArray();
            if (contract.Checks.Length == contract.Spec.Rules.Count)
            {
                try
                {
                    contract.Passes = FastPath.Compile(contract.Type, contract.Checks);
                }
                catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
                {
                    // A shape the inline compiler does not cover: the per-rule checks decide alone (slower, same answers).
                    CompiledContract slow = contract;
                    contract.Passes = message => slow.Validate(message) is null;
                }
            }
            contract.Defaults = CompileDefaults(contract);
        }

        foreach (CompiledContract contract in _contracts.Values)
        {
            foreach (MapSpec map in contract.Spec.MapFrom)
            {
                if (!types.TryGetValue(map.From, out Type? source))
                {
                    errors.Add(new(map.Location ?? contract.Spec.Location, $"{contract.Name} maps from {map.From}, which has no CLR type registered: register it (Register<T>(\"{map.From}\"))"));
                    continue;
                }

                _maps[(source, contract.Type)] = new MapStage(map.From, source, contract.Name, TypeShape.Of(contract.Type));
            }
        }

        foreach (CompiledContract contract in _contracts.Values)
        {
            foreach (MapSpec map in contract.Spec.MapFrom)
            {
                if (types.TryGetValue(map.From, out Type? source) && _maps.TryGetValue((source, contract.Type), out MapStage? stage))
                {
                    stage.Plans = PlanMap(contract, map, source);
                }
            }
        }

        foreach ((string name, ContractRef reference) in _refs)
        {
            reference.Contract = _contracts.GetValueOrDefault(name);
        }
    }

    private static bool IsSensitive(ContractSpec? contract, string path)
        => contract is not null && contract.Sensitive.Any(s => string.Equals(path, s, StringComparison.OrdinalIgnoreCase)
            || path.StartsWith(s + ".", StringComparison.OrdinalIgnoreCase));

    private static string Join(string prefix, string path) => prefix.Length == 0 ? path : path.Length == 0 ? prefix : $"{prefix}.{path}";
}
