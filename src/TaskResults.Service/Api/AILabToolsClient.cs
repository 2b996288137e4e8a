using System.Text.Json;
using Microsoft.Extensions.Options;
using RestSharp;
using TaskResults.Service.Options;

namespace TaskResults.Service.Api;

/// <summary>Asks the API how a job is doing.</summary>
public interface ITaskResultApi
{
    /// <summary>One call; every answer, including transport failures, comes back as a <see cref="CheckOutcome"/>.</summary>
    Task<CheckOutcome> CheckAsync(string jobId, string taskType, CancellationToken cancellationToken);
}

/// <summary>
/// The AILabTools client: one transport and one reading of the public fields for every endpoint;
/// the endpoint that handles the task type reads the business fields.
/// </summary>
public sealed class AILabToolsClient(HttpClient httpClient, IOptions<AILabToolsOptions> options, IEnumerable<ITaskResultEndpoint> endpoints)
    : ITaskResultApi
{
    private const string ApiKeyHeader = "ailabapi-api-key";

    /// <summary>The connection handler every client of the API uses (the service's and the tests').</summary>
    public static SocketsHttpHandler CreateHandler(AILabToolsOptions api) => new()
    {
        ConnectTimeout = api.ConnectTimeout,
        // DNS changes are picked up; connections are reused otherwise.
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        // A redirect would carry the ailabapi-api-key header to another host.
        AllowAutoRedirect = false,
    };

    /// <summary>Sets the limits of an <see cref="HttpClient"/> that talks to the API.</summary>
    public static void Configure(HttpClient http, AILabToolsOptions api)
    {
        // HttpClient buffers the body with this cap, so a huge answer fails early instead of filling memory.
        http.MaxResponseContentBufferSize = api.MaxResponseBytes;
        // Each request has its own timeout (AILabTools:Timeout); this is only the outer bound.
        http.Timeout = api.Timeout + TimeSpan.FromSeconds(5);
    }

    private readonly AILabToolsOptions _options = options.Value;
    private readonly RestClient _rest = new(httpClient, new RestClientOptions(options.Value.BaseUrl) { ThrowOnAnyError = false, FollowRedirects = false });
    private readonly ITaskResultEndpoint[] _endpoints = endpoints.ToArray();

    public async Task<CheckOutcome> CheckAsync(string jobId, string taskType, CancellationToken cancellationToken)
    {
        var endpoint = _endpoints.FirstOrDefault(e => e.Handles(taskType))
            ?? throw new ArgumentException($"No endpoint handles task type '{taskType}'.", nameof(taskType));

        var request = endpoint.CreateRequest(jobId, taskType).AddHeader(ApiKeyHeader, _options.ApiKey);
        request.Timeout = _options.Timeout;

        var response = await _rest.ExecuteAsync(request, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        return Read(response, endpoint);
    }

    private CheckOutcome Read(RestResponse response, ITaskResultEndpoint endpoint)
    {
        var httpStatus = (int)response.StatusCode;
        if (httpStatus == 0)
        {
            // No answer at all: refused, reset, timed out.
            var what = response.ResponseStatus == ResponseStatus.TimedOut ? "timed out" : response.ErrorException?.Message ?? response.ResponseStatus.ToString();
            return Transient(null, $"No answer from the API: {what}", ApiCallInfo.None, null);
        }

        if (httpStatus is >= 300 and < 400)
        {
            // Redirects are not followed: the key would go along to wherever they point. Not this
            // job's fault but the configuration's: an incident (held like an outage), not a failure.
            var location = response.Headers?.FirstOrDefault(h => string.Equals(h.Name, "Location", StringComparison.OrdinalIgnoreCase))?.Value;
            return Transient(ApiErrorCodes.Redirect, $"HTTP {httpStatus}: the API redirects to {location}; redirects are not followed (check AILabTools:BaseUrl).",
                new ApiCallInfo(httpStatus, null, null), null);
        }

        var retryAfter = RetryAfter(response);
        if (response.ErrorException is { } readError && response.RawBytes is null)
        {
            // Headers came, the body did not: too large for the buffer cap, too slow, or cut off.
            return Transient(null, $"HTTP {httpStatus}: the answer could not be read: {readError.Message}", new ApiCallInfo(httpStatus, null, null), retryAfter);
        }

        var rawBytes = response.RawBytes?.Length ?? 0;
        if (rawBytes > _options.MaxResponseBytes)
        {
            return Transient(null, $"HTTP {httpStatus}: the answer is {rawBytes} bytes, more than the {_options.MaxResponseBytes} allowed.", new ApiCallInfo(httpStatus, null, null), retryAfter);
        }

        // Whatever the API (or a proxy) says is redacted before anything reads it: an echoed key goes nowhere.
        if (ParseObject(ForeignText.Redact(response.Content ?? "", _options.ApiKey)) is not { } root)
        {
            return Transient(null, $"HTTP {httpStatus}: the answer is not a JSON object.", new ApiCallInfo(httpStatus, null, null), retryAfter);
        }

        using (root)
        {
            var fields = PublicFields.Read(root.RootElement);
            var call = new ApiCallInfo(httpStatus, ForeignText.Excerpt(fields.RequestId, ForeignText.SenderExcerpt), ForeignText.Excerpt(fields.LogId, ForeignText.SenderExcerpt));
            if (fields.IsSuccess(httpStatus)) return endpoint.ReadResult(root.RootElement, call);

            var status = fields.StatusForClassification(httpStatus);
            var message = fields.Message ?? $"HTTP {httpStatus}";
            return ErrorClassifier.IsTransient(fields.Code, status)
                ? Transient(fields.Code, message, call, retryAfter)
                : new CheckOutcome.PermanentError(Error(fields.Code, message), ErrorClassifier.ClassOf(fields.Code, status)) { Call = call };
        }
    }

    private CheckOutcome.TransientError Transient(string? code, string message, ApiCallInfo call, TimeSpan? retryAfter) =>
        new(Error(code, message), retryAfter) { Call = call };

    // The API's words (or an exception's) as far as events and logs repeat them: an excerpt, one line, no key.
    private ApiError Error(string? code, string message) =>
        new(ForeignText.Excerpt(code, ForeignText.SenderExcerpt, _options.ApiKey), ForeignText.Excerpt(message, ForeignText.ApiExcerpt, _options.ApiKey)!);

    private static JsonDocument? ParseObject(string? content)
    {
        if (string.IsNullOrWhiteSpace(content)) return null;
        try
        {
            var document = JsonDocument.Parse(content);
            if (document.RootElement.ValueKind == JsonValueKind.Object) return document;
            document.Dispose();
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static TimeSpan? RetryAfter(RestResponse response)
    {
        var value = response.Headers?.FirstOrDefault(h => string.Equals(h.Name, "Retry-After", StringComparison.OrdinalIgnoreCase))?.Value;
        if (string.IsNullOrWhiteSpace(value)) return null;
        if (int.TryParse(value, out var seconds) && seconds >= 0) return TimeSpan.FromSeconds(seconds);
        if (DateTimeOffset.TryParse(value, out var at)) return at - DateTimeOffset.UtcNow is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        return null;
    }
}
