using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace TaskResults.Service.Admin;

/// <summary>
/// Who may do what on <c>/jobs</c>: the token as a bearer token (scripts), or the page's sign-in cookie, which
/// holds a value derived from the token, not the token (people). Comparisons take the same time whatever matches.
/// </summary>
public sealed class AdminAccess(IOptions<AdminOptions> options)
{
    public const string Cookie = "taskresults-admin";

    private readonly AdminOptions _options = options.Value;

    /// <summary>The sign-in cookie's value: changes with the token, so a new token signs everyone out.</summary>
    public string SessionValue => Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(_options.Token ?? ""), "taskresults jobs page"u8));

    /// <summary>Whether the request shows the token: may read and cancel.</summary>
    public bool IsOperator(HttpRequest request)
    {
        if (!_options.Enabled) return false;
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return Matches(header["Bearer ".Length..].Trim(), _options.Token!);
        // The cookie goes only with requests from the page's own site (SameSite=Strict); a cross-site form post is refused too.
        return request.Cookies.TryGetValue(Cookie, out var session) && Matches(session, SessionValue) && !IsCrossSite(request);
    }

    /// <summary>Whether the request may read statuses and lists.</summary>
    public bool MayRead(HttpRequest request) => _options.OpenReads || IsOperator(request);

    /// <summary>Whether <paramref name="token"/> is the configured one (the page's sign-in form).</summary>
    public bool IsToken(string? token) => _options.Enabled && Matches(token, _options.Token!);

    // Hashes first: equal lengths, so neither the length nor a prefix of the token leaks through timing.
    private static bool Matches(string? given, string expected) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given ?? "")), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));

    private static bool IsCrossSite(HttpRequest request) =>
        HttpMethods.IsPost(request.Method) && request.Headers.Origin.ToString() is { Length: > 0 } origin
        && !(Uri.TryCreate(origin, UriKind.Absolute, out var from) && string.Equals(from.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase));
}
