using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace TaskResults.Service.Cli;

/// <summary>
/// System.CommandLine's help for <c>check</c> (description, usage, arguments, options), then what its
/// layout has no place for: where the API key comes from, and the exit codes.
/// </summary>
public sealed class CheckHelpAction(HelpAction generated, string closing) : SynchronousCommandLineAction
{
    // Help is asked for anywhere on the line, whatever else is wrong with it.
    public override bool ClearsParseErrors => true;

    public override int Invoke(ParseResult parseResult)
    {
        generated.Invoke(parseResult);
        parseResult.InvocationConfiguration.Output.WriteLine(closing);
        return 0;
    }
}
