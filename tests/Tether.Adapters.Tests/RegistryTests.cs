namespace Tether.Adapters.Tests;

/// <summary>The adapters find message types in the node's one contract registry.</summary>
public sealed class RegistryTests
{
    private const string Spec = """
        message: Shop.Registered
        rules:
          - field: quantity
            range: { min: 1, max: 5 }
        """;

    [Fact]
    public void CreateBuilder_WithRegistry_FindsAttributedTypes()
    {
        ContractRegistry contracts = new ContractRegistry().Register<RegisteredOrder>();

        MessageAdapters adapters = MessageAdapters.CreateBuilder(contracts).AddYaml(Spec, "spec.yaml").Build();

        ContractViolationException violation = adapters.Pipe<RegisteredOrder>().Violation(new RegisteredOrder("a", 9));
        Assert.Contains("quantity", violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CreateBuilder_TypeRegisteredAfterwards_CountsAtBuild()
    {
        var contracts = new ContractRegistry();
        MessageAdaptersBuilder builder = MessageAdapters.CreateBuilder(contracts).AddYaml(Spec, "spec.yaml");
        contracts.RegisterAssembly(typeof(RegisteredOrder).Assembly);

        MessageAdapters adapters = builder.Build();

        Assert.NotNull(adapters.Pipe<RegisteredOrder>());
    }

    [Fact]
    public void BuilderRegister_WritesToTheSharedRegistry()
    {
        var contracts = new ContractRegistry();

        MessageAdapters.CreateBuilder(contracts).Register<Note>("Test.Note");

        Assert.True(contracts.TryGetType("Test.Note", out Type type));
        Assert.Equal(typeof(Note), type);
    }

    [Fact]
    public void Build_SpecWithoutRegisteredType_NamesTheRegistryFix()
    {
        ContractSpecException error = Assert.Throws<ContractSpecException>(() => MessageAdapters.CreateBuilder(new ContractRegistry()).AddYaml(Spec, "spec.yaml").Build());

        Assert.Contains("spec.yaml:1:10: Shop.Registered has no CLR type registered", error.Message, StringComparison.Ordinal);
        Assert.Contains("[Contract(\"Shop.Registered\")]", error.Message, StringComparison.Ordinal);
    }
}
