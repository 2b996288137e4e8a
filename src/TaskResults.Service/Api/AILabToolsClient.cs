using System.Text.Json;
using Microsoft.Extensions.Options;
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
public sealed class AILabToolsClient(HttpClient httpClient, IOptions<AILabToolsOptions> options, IEnumerable<ITaskResultEndpoint> endpoints, TimeProvider clock)
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
        // CheckAsync buffers the body under MaxResponseBytes itself; this caps any other read the same way.
        http.MaxResponseContentBufferSize = api.MaxResponseBytes;
        // Each request has its own timeout (AILabTools:Timeout, headers and body); this is only the outer bound.
        http.Timeout = api.Timeout + TimeSpan.FromSeconds(5);
        // What RestSharp sent: some gateways refuse a request without them, or answer it with HTML.
        http.DefaultRequestHeaders.Accept.ParseAdd("application/json");
        http.DefaultRequestHeaders.UserAgent.Add(new System.Net.Http.Headers.ProductInfoHeaderValue("TaskResults", typeof(AILabToolsClient).Assembly.GetName().Version?.ToString(3) ?? "1.0.0"));
    }

    private readonly AILabToolsOptions _options = options.Value;
    private readonly ITaskResultEndpoint[] _endpoints = endpoints.ToArray();
    // RelativeUri's paths go after the base URL's own path, whether or not it ends in a slash.
    private readonly Uri _baseUri = new(options.Value.BaseUrl.Trim().TrimEnd('/') + "/");

    public async Task<CheckOutcome> CheckAsync(string jobId, string taskType, CancellationToken cancellationToken)
    {
        var endpoint = _endpoints.FirstOrDefault(e => e.Handles(taskType))
            ?? throw new ArgumentException($"No endpoint handles task type '{taskType}'.", nameof(taskType));

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_baseUri, endpoint.RelativeUri(jobId, taskType)));
        request.Headers.TryAddWithoutValidation(ApiKeyHeader, _options.ApiKey);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.Timeout);
        HttpResponseMessage response;
        try
        {
            response = await httpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException)
        {
            // No answer at all: refused, reset, timed out.
            return Transient(null, $"No answer from the API: {Problem(exception, cancellationToken)}", ApiCallInfo.None, null);
        }

        using (response)
        {
            byte[]? body = null;
            string? readProblem = null;
            try
            {
                // Buffered with the cap: a huge answer fails here instead of filling memory.
                await response.Content.LoadIntoBufferAsync(_options.MaxResponseBytes, timeout.Token);
                body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
            }
            catch (Exception exception) when (exception is HttpRequestException or IOException or OperationCanceledException)
            {
                readProblem = Problem(exception, cancellationToken);
            }

            cancellationToken.ThrowIfCancellationRequested();
            return Read(response, body, readProblem, endpoint);
        }
    }

    private CheckOutcome Read(HttpResponseMessage response, byte[]? body, string? readProblem, ITaskResultEndpoint endpoint)
    {
        var httpStatus = (int)response.StatusCode;
        if (httpStatus is >= 300 and < 400)
        {
            // Redirects are not followed: the key would go along to wherever they point. Not this
            // job's fault but the configuration's: an incident (held like an outage), not a failure.
            // As sent, even when it is not a valid URI.
            var location = response.Headers.NonValidated.TryGetValues("Location", out var values) ? values.ToString() : null;
            return Transient(ApiErrorCodes.Redirect, $"HTTP {httpStatus}: the API redirects to {location}; redirects are not followed (check AILabTools:BaseUrl).",
                new ApiCallInfo(httpStatus, null, null), null);
        }

        var retryAfter = RetryAfter(response);
        if (body is null)
        {
            // Headers came, the body did not: too large for the buffer cap, too slow, or cut off.
            return Transient(null, $"HTTP {httpStatus}: the answer could not be read: {readProblem}", new ApiCallInfo(httpStatus, null, null), retryAfter);
        }

        // Whatever the API (or a proxy) says is redacted before anything reads it: an echoed key goes nowhere.
        if (ParseObject(ForeignText.Redact(Text(response, body), _options.ApiKey)) is not { } root)
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

    // Why the transport gave no (whole) answer, in words; the caller's cancellation stays one, whatever the transport threw meanwhile.
    private static string Problem(Exception exception, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return exception is OperationCanceledException ? "timed out" : exception.Message;
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

    // A date is counted on the service's TimeProvider (a fake one in specs).
    private TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } when delta >= TimeSpan.Zero => delta,
        { Date: { } at } => at - clock.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
        _ => null,
    };

    // The body as text in the charset the answer names (UTF-8 when it names none, or one this runtime does not know).
    private static string Text(HttpResponseMessage response, byte[] body)
    {
        var encoding = System.Text.Encoding.UTF8;
        if (response.Content.Headers.ContentType?.CharSet is { Length: > 0 } charset)
        {
            try
            {
                encoding = System.Text.Encoding.GetEncoding(charset.Trim('"'));
            }
            catch (ArgumentException)
            {
            }
        }

        // A byte-order mark names the encoding itself, and is not part of the text (JSON refuses it).
        using var reader = new StreamReader(new MemoryStream(body), encoding, detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }
}
