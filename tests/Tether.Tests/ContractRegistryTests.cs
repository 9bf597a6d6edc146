namespace Tether.Tests;

[Contract("registry-test.place")]
public sealed record RegistryPlace(string Item, int Quantity) : IRequest<string>;

[Contract("registry-test.placed")]
internal sealed record RegistryPlaced(string Item);

public sealed record RegistryUnnamed(int X);

public sealed class ContractRegistryTests
{
    [Fact]
    public void RegisterAssembly_AttributedTypes_RegisteredUnderTheirNames()
    {
        ContractRegistry contracts = new ContractRegistry().RegisterAssembly(typeof(RegistryPlace).Assembly);

        Assert.True(contracts.TryGetType("registry-test.place", out Type place));
        Assert.Equal(typeof(RegistryPlace), place);
        Assert.True(contracts.TryGetName(typeof(RegistryPlaced), out string placed));
        Assert.Equal("registry-test.placed", placed);
        Assert.False(contracts.TryGetName(typeof(RegistryUnnamed), out _));
    }

    [Fact]
    public void New_HoldsTheRuntimeContracts()
    {
        var contracts = new ContractRegistry();

        Assert.True(contracts.TryGetName(typeof(Address), out string name));
        Assert.Equal("tether.address", name);
        Assert.Equal(6, contracts.Count);
    }

    [Fact]
    public void Register_SamePairTwice_IsOneRegistration()
    {
        var contracts = new ContractRegistry();
        int before = contracts.Count;

        contracts.Register<RegistryPlace>().Register<RegistryPlace>("registry-test.place");

        Assert.Equal(before + 1, contracts.Count);
    }

    [Fact]
    public void Register_NameTakenByAnotherType_ThrowsNamingBoth()
    {
        var contracts = new ContractRegistry().Register<RegistryPlace>();

        ArgumentException error = Assert.Throws<ArgumentException>(() => contracts.Register<RegistryUnnamed>("registry-test.place"));

        Assert.Contains("registry-test.place", error.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(RegistryPlace), error.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(RegistryUnnamed), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Register_TypeUnderASecondName_Throws()
    {
        var contracts = new ContractRegistry().Register<RegistryPlace>();

        ArgumentException error = Assert.Throws<ArgumentException>(() => contracts.Register<RegistryPlace>("registry-test.other"));

        Assert.Contains("one type, one name", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Register_WithoutAttribute_ThrowsNamingTheFix()
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() => new ContractRegistry().Register<RegistryUnnamed>());

        Assert.Contains("[Contract(\"name\")]", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1orders")]
    [InlineData("orders place")]
    [InlineData("orders/place")]
    [InlineData("ordérs")]
    public void Register_InvalidName_ThrowsNamingIt(string name)
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() => new ContractRegistry().Register<RegistryUnnamed>(name));

        Assert.Contains($"\"{name}\" is not a valid contract name", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Register_NameOfMaximumLength_AcceptedOneMoreRefused()
    {
        string longest = "a" + new string('b', Names.MaxContractNameLength - 1);

        new ContractRegistry().Register<RegistryUnnamed>(longest);
        Assert.Throws<ArgumentException>(() => new ContractRegistry().Register<RegistryUnnamed>(longest + "c"));
    }

    [Fact]
    public async Task Node_WithoutRegistry_HasOneOfItsOwn()
    {
        await using Node first = Node.Create();
        await using Node second = Node.Create();
        first.Contracts.Register<RegistryPlace>();

        Assert.True(first.Contracts.TryGetName(typeof(RegistryPlace), out _));
        Assert.False(second.Contracts.TryGetName(typeof(RegistryPlace), out _));
    }

    [Fact]
    public async Task Node_WithRegistry_ExposesThatRegistry()
    {
        var contracts = new ContractRegistry();
        await using Node node = Node.Create(new NodeOptions { Contracts = contracts });

        Assert.Same(contracts, node.Contracts);
    }

    [Theory]
    [InlineData("orders-1", true)]
    [InlineData("a_b", true)]
    [InlineData("", false)]
    [InlineData("a.b", false)]
    [InlineData("a b", false)]
    [InlineData("a*", false)]
    [InlineData("nœud", false)]
    public void IsToken_TheOneRule(string text, bool expected) => Assert.Equal(expected, Names.IsToken(text));

    [Theory]
    [InlineData("orders.placed", true)]
    [InlineData("prices", true)]
    [InlineData("a..b", false)]
    [InlineData(".a", false)]
    [InlineData("a.", false)]
    [InlineData("a.>", false)]
    public void IsDottedName_TokensJoinedByDots(string text, bool expected) => Assert.Equal(expected, Names.IsDottedName(text));
}
