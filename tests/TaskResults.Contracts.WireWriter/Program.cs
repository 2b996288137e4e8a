using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text.Json;
using MassTransit.Serialization;
using TaskResults.Contracts;
using TaskResults.Contracts.WireWriter;

// Usage: TaskResults.Contracts.WireWriter <directory>
// Writes <directory>/<Message>.json for each of WireSamples.All: the message as MassTransit's
// System.Text.Json serializer (the default, which the service uses) puts it into the envelope's
// "message", on .NET 8 with the net8.0 build of the contracts. <directory>/writer.txt says which
// runtime and which contracts build wrote them.
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: TaskResults.Contracts.WireWriter <directory>");
    return 2;
}

Directory.CreateDirectory(args[0]);
foreach (var message in WireSamples.All)
{
    var json = JsonSerializer.SerializeToUtf8Bytes(message, message.GetType(), SystemTextJsonMessageSerializer.Options);
    File.WriteAllBytes(Path.Combine(args[0], message.GetType().Name + ".json"), json);
}

var contracts = typeof(CheckTaskResult).Assembly.GetCustomAttribute<TargetFrameworkAttribute>()?.FrameworkName ?? "unknown";
File.WriteAllLines(Path.Combine(args[0], "writer.txt"), [RuntimeInformation.FrameworkDescription, contracts]);
return 0;
