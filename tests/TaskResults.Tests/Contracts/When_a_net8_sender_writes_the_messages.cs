using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.Json;
using MassTransit.Serialization;
using TaskResults.Contracts.WireWriter;

namespace TaskResults.Tests.Contracts;

/// <summary>
/// The contracts are built for netstandard2.0, net8.0 and net10.0: a sender on .NET 8 and this
/// service on .NET 10 must agree on the JSON to the byte. The JSON comes from the WireWriter
/// program, which runs on .NET 8 with the net8.0 build of the contracts and MassTransit's serializer.
/// </summary>
public sealed class When_a_net8_sender_writes_the_messages(Net8WireJson net8) : IClassFixture<Net8WireJson>
{
    public static TheoryData<string> Messages { get; } = new(WireSamples.All.Select(message => message.GetType().Name));

    [Fact]
    public void Should_have_written_them_on_net8_with_the_net8_build_of_the_contracts()
    {
        Assert.StartsWith(".NET 8.", net8.Runtime);
        Assert.Equal(".NETCoreApp,Version=v8.0", net8.ContractsTarget);
    }

    [Theory]
    [MemberData(nameof(Messages))]
    public void Should_read_each_message_back_field_for_field(string name)
    {
        var expected = Sample(name);

        var actual = JsonSerializer.Deserialize(net8.Json(name), expected.GetType(), SystemTextJsonMessageSerializer.Options);

        Assert.NotNull(actual);
        AssertSameFields(expected, actual, name);
    }

    private static void AssertSameFields(object expected, object actual, string path)
    {
        Assert.IsType(expected.GetType(), actual);
        var properties = expected.GetType().GetProperties();
        Assert.NotEmpty(properties);
        foreach (var property in properties)
        {
            var (want, got) = (property.GetValue(expected), property.GetValue(actual));
            switch (want)
            {
                // A JsonElement by its text, a list by its items: neither compares by value.
                case JsonElement element:
                    Assert.Equal(JsonSerializer.Serialize(element), JsonSerializer.Serialize(Assert.IsType<JsonElement>(got)));
                    break;
                case IReadOnlyList<string> list:
                    Assert.Equal(list, Assert.IsAssignableFrom<IReadOnlyList<string>>(got));
                    break;
                // A list of messages (a status's checks): item for item, field for field.
                case System.Collections.IList items when want.GetType().IsGenericType:
                    var gotItems = Assert.IsAssignableFrom<System.Collections.IList>(got);
                    Assert.Equal(items.Count, gotItems.Count);
                    for (var i = 0; i < items.Count; i++) AssertSameFields(items[i]!, gotItems[i]!, $"{path}.{property.Name}[{i}]");
                    break;
                // A message inside a message (a status's terminal event): field for field too.
                case not null when want.GetType().Namespace == typeof(CheckTaskResult).Namespace && want.GetType().IsClass && want is not string:
                    Assert.True(got is not null, $"{path}.{property.Name}: expected {want}, got null.");
                    AssertSameFields(want, got, $"{path}.{property.Name}");
                    break;
                default:
                    Assert.True(Equals(want, got), $"{path}.{property.Name}: expected {want}, got {got}.");
                    break;
            }
        }
    }

    [Theory]
    [MemberData(nameof(Messages))]
    public void Should_write_the_same_bytes(string name)
    {
        var message = Sample(name);

        var net10 = JsonSerializer.SerializeToUtf8Bytes(message, message.GetType(), SystemTextJsonMessageSerializer.Options);

        // As text, so that a failure shows where they part.
        Assert.Equal(Encoding.UTF8.GetString(net8.Json(name)), Encoding.UTF8.GetString(net10));
        Assert.Equal(net8.Json(name), net10);
    }

    private static object Sample(string name) => WireSamples.All.Single(message => message.GetType().Name == name);
}

/// <summary>What tests/TaskResults.Contracts.WireWriter (built by this project's reference) writes, run once.</summary>
public sealed class Net8WireJson : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("taskresults-wire-").FullName;

    public Net8WireJson()
    {
        // The path TaskResults.Tests.csproj put into this assembly: the writer is self-contained, so its own executable.
        var writer = typeof(Net8WireJson).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "WireWriter").Value!
            + (OperatingSystem.IsWindows() ? ".exe" : "");
        var start = new ProcessStartInfo(writer) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(_directory);

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill();
            throw new TimeoutException($"{writer} still running after 60 s.");
        }

        Assert.True(process.ExitCode == 0, $"{writer} exited with {process.ExitCode}:\n{stdout.Result}{stderr.Result}");
        var about = File.ReadAllLines(Path.Combine(_directory, "writer.txt"));
        (Runtime, ContractsTarget) = (about[0], about[1]);
    }

    /// <summary>The runtime the writer ran on, e.g. ".NET 8.0.31".</summary>
    public string Runtime { get; }

    /// <summary>The target framework of the contracts build the writer ran with.</summary>
    public string ContractsTarget { get; }

    public byte[] Json(string message) => File.ReadAllBytes(Path.Combine(_directory, message + ".json"));

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
