using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml;

namespace TaskResults.Service.Cli;

/// <summary>
/// The value of <c>--deadline</c>: an absolute ISO 8601 time (UTC unless it names an offset), or a
/// duration from the first check (90s, 5m, 1h, PT2M). Anything later than Polling:MaxDeadline is
/// capped there by the consumer; what is refused here is what no clock can hold or what has passed.
/// </summary>
public static partial class CheckDeadline
{
    private static readonly string[] TimeFormats =
    [
        "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mmK",
        "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", "yyyy-MM-dd'T'HH:mm",
    ];

    /// <summary>Reads <paramref name="text"/> as given at <paramref name="now"/>.</summary>
    /// <exception cref="UsageException">It is no deadline, has passed, or lies beyond any representable time.</exception>
    public static (DateTimeOffset? At, TimeSpan? After) Parse(string text, DateTimeOffset now)
    {
        if (ParseDuration(text) is { } duration)
        {
            if (duration <= TimeSpan.Zero) throw new UsageException($"--deadline {UsageException.Shown(text)} is not a positive duration.");
            if (duration > DateTimeOffset.MaxValue - now) throw TooFarOff(text);
            return (null, duration);
        }

        if (DateTimeOffset.TryParseExact(text, TimeFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            if (at <= now) throw new UsageException($"--deadline {UsageException.Shown(text)} has passed (it is {now.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'} now).");
            return (at, null);
        }

        throw new UsageException($"--deadline {UsageException.Shown(text)} is neither a time (2026-11-24T18:00:00Z) nor a duration (90s, 5m, 1h, PT2M).");
    }

    /// <summary>The duration <paramref name="text"/> names, null if it names none.</summary>
    /// <exception cref="UsageException">It names one longer than any TimeSpan.</exception>
    private static TimeSpan? ParseDuration(string text)
    {
        if (ShortDuration().Match(text) is { Success: true } match)
        {
            // In double seconds: 99999999999h and 400 nines overflow TimeSpan, not double (at worst ∞).
            var seconds = double.Parse(match.Groups["amount"].Value, CultureInfo.InvariantCulture) * match.Groups["unit"].Value switch
            {
                "s" => 1,
                "m" => 60,
                _ => 3600,
            };
            if (seconds >= TimeSpan.MaxValue.TotalSeconds) throw TooFarOff(text);
            return TimeSpan.FromSeconds(match.Groups["sign"].Success ? -seconds : seconds);
        }

        if (!text.StartsWith('P') && !text.StartsWith("-P", StringComparison.Ordinal)) return null;
        try
        {
            return XmlConvert.ToTimeSpan(text);
        }
        catch (OverflowException)
        {
            throw TooFarOff(text);
        }
        catch (FormatException) when (IsoDurationShape().IsMatch(text))
        {
            // XmlConvert says FormatException, not OverflowException, when one field alone (PT99999999999H) overflows.
            throw TooFarOff(text);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static UsageException TooFarOff(string text) =>
        new($"--deadline {UsageException.Shown(text)} is too far off to count; no check runs longer than Polling:MaxDeadline (default 24h) anyway.");

    [GeneratedRegex(@"^(?<sign>-)?(?<amount>[0-9]+(\.[0-9]+)?)(?<unit>[smh])$")]
    private static partial Regex ShortDuration();

    /// <summary>A well-formed ISO 8601 duration, whatever the size of its numbers.</summary>
    [GeneratedRegex(@"^-?P(?!$)([0-9]+Y)?([0-9]+M)?([0-9]+D)?(T(?=[0-9])([0-9]+H)?([0-9]+M)?([0-9]+(\.[0-9]+)?S)?)?$")]
    private static partial Regex IsoDurationShape();
}
