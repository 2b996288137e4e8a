using System.Text.Json;
using MassTransit;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using TaskResults.Contracts;
using TaskResults.Service.Consumers;
using TaskResults.Service.Options;
using TaskResults.Service.Registry;
using TaskStatus = TaskResults.Contracts.TaskStatus;

namespace TaskResults.Service.Admin;

/// <summary>One page of a listing: the jobs, and the cursor of the next page (null: this was the last).</summary>
public sealed record JobList(IReadOnlyList<TaskStatus> Jobs, string? Next);

/// <summary>The body of a cancel, optional.</summary>
public sealed record CancelRequest(string? Reason);

/// <summary>Why a request was not answered: a bad value, or no registry to ask.</summary>
public sealed record AdminProblem(string Message);

/// <summary>
/// <c>/jobs</c>: a job's status, the jobs in one state, cancel; JSON for scripts, and the same addresses as HTML
/// pages when a browser asks for them (<c>Accept: text/html</c>). Mapped only when <c>Admin:Token</c> is set.
/// </summary>
public static class JobEndpoints
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    // A cancel's body holds a reason of a few words: anything this large is not one.
    private const long MaxBodyBytes = 64 * 1024;

    public static IServiceCollection AddJobEndpoints(this IServiceCollection services)
    {
        services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.Section).ValidateDataAnnotations()
            .Validate<IOptions<AILabToolsOptions>>((admin, api) => !admin.Enabled || admin.Token != api.Value.ApiKey,
                $"{AdminOptions.Section}:Token must be a secret of its own, not the AILabTools key.")
            .ValidateOnStart();
        services.AddSingleton<AdminAccess>();
        services.AddOpenApi(openApi => openApi.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "TaskResults jobs";
            document.Info.Description = "A job's status, the jobs in one state, cancel. Every request shows Admin:Token as a bearer token (reads need none when Admin:OpenReads is on).";
            return Task.CompletedTask;
        }));
        return services;
    }

    public static WebApplication MapJobEndpoints(this WebApplication app)
    {
        if (!app.Services.GetRequiredService<IOptions<AdminOptions>>().Value.Enabled) return app;
        var access = app.Services.GetRequiredService<AdminAccess>();
        var jobs = app.MapGroup("/jobs").WithTags("Jobs");

        jobs.MapGet("/", List).AddEndpointFilter(Allow(access.MayRead))
            .WithName("ListJobs").WithSummary("The jobs in one state (pending by default), newest activity first, one page.")
            .Produces<JobList>().Produces<AdminProblem>(StatusCodes.Status400BadRequest).Produces(StatusCodes.Status401Unauthorized)
            .Produces<AdminProblem>(StatusCodes.Status503ServiceUnavailable);
        jobs.MapGet("/{taskType}/{jobId}", Get).AddEndpointFilter(Allow(access.MayRead))
            .WithName("GetJob").WithSummary("A job's status as the registry holds it, with its latest checks.")
            .Produces<TaskStatus>().Produces<AdminProblem>(StatusCodes.Status400BadRequest).Produces(StatusCodes.Status401Unauthorized)
            .Produces<TaskStatus>(StatusCodes.Status404NotFound).Produces<AdminProblem>(StatusCodes.Status503ServiceUnavailable);
        jobs.MapPost("/{taskType}/{jobId}/cancel", Cancel).AddEndpointFilter(Allow(access.IsOperator))
            .WithName("CancelJob").WithSummary("Stops a pending job: its TaskFailed (CANCELLED) is published at once. Needs the token, always.")
            .Accepts<CancelRequest>(isOptional: true, "application/json", "application/x-www-form-urlencoded").Produces<TaskCancellation>().Produces<TaskCancellation>(StatusCodes.Status400BadRequest)
            .Produces(StatusCodes.Status401Unauthorized).Produces<TaskCancellation>(StatusCodes.Status404NotFound)
            .Produces<TaskCancellation>(StatusCodes.Status503ServiceUnavailable);
        jobs.MapPost("/sign-in", SignIn).DisableAntiforgery().ExcludeFromDescription();
        jobs.MapPost("/sign-out", SignOut).ExcludeFromDescription();
        app.MapOpenApi("/jobs/openapi.json").AddEndpointFilter(Allow(access.MayRead));
        return app;
    }

    private static async Task<IResult> List(HttpContext http, JobChains chains, IOptions<AdminOptions> options, AdminAccess access,
        string? state, string? taskType, string? limit, string? cursor)
    {
        http.Response.Headers.Vary = "Accept";
        var query = ReadQuery(state, taskType, limit, cursor, out var problem);
        if (query is null) return Problem(http, StatusCodes.Status400BadRequest, problem!);
        var (available, page) = await chains.ListAsync(query, http.RequestAborted);
        if (!available) return Problem(http, StatusCodes.Status503ServiceUnavailable, chains.Enabled ? JobStatusReport.RegistryAway : JobStatusReport.NoRegistry);

        // A list is for finding jobs: a job's checks are in its own status.
        var list = new JobList([.. page.Jobs.Select(listed => JobStatusReport.From(listed.Job, listed.Record, true, true) with { Checks = null })],
            page.Next?.ToString());
        return WantsHtml(http) ? Html(JobsPage.List(list, query, options.Value, access.IsOperator(http.Request))) : Results.Ok(list);
    }

    private static async Task<IResult> Get(HttpContext http, JobChains chains, IOptions<AdminOptions> options, AdminAccess access, string taskType, string jobId)
    {
        jobId = JobIdAsSent(http, taskType, jobId);
        http.Response.Headers.Vary = "Accept";
        if (CommandValidation.FindJobProblem(jobId, taskType) is { } problem) return Problem(http, StatusCodes.Status400BadRequest, problem);
        var job = new JobKey(taskType, jobId);
        var (available, record) = await chains.StatusAsync(job, http.RequestAborted);
        if (!available) return Problem(http, StatusCodes.Status503ServiceUnavailable, chains.Enabled ? JobStatusReport.RegistryAway : JobStatusReport.NoRegistry);

        var status = JobStatusReport.From(job, record, available, chains.Enabled);
        var code = record is null ? StatusCodes.Status404NotFound : StatusCodes.Status200OK;
        return WantsHtml(http) ? Html(JobsPage.Detail(status, options.Value, access.IsOperator(http.Request)), code) : Results.Json(status, statusCode: code);
    }

    private static async Task<IResult> Cancel(HttpContext http, JobCancellation cancellation, IPublishEndpoint publish, string taskType, string jobId)
    {
        jobId = JobIdAsSent(http, taskType, jobId);
        var (readable, reason) = await ReadReasonAsync(http);
        if (!readable) return Results.Json(new AdminProblem("The body must be JSON like {\"reason\": \"...\"}, a form with a reason, or nothing."), statusCode: StatusCodes.Status400BadRequest);
        var cancel = await cancellation.CancelAsync(jobId, taskType, reason, http.RequestAborted);
        if (cancel.Event is { } cancelled) await publish.Publish(cancelled, http.RequestAborted);

        // The page's button: back to the job (a GET), which shows what the cancel did.
        if (WantsHtml(http) && cancel.Answer.Outcome != CancelOutcomes.Unknown) return SeeOther(http, JobsPage.JobPath(taskType, jobId));
        var code = cancel.Answer.Outcome switch
        {
            CancelOutcomes.NotAvailable => StatusCodes.Status503ServiceUnavailable,
            CancelOutcomes.Unknown when cancel.Answer.Status.Message is not null => StatusCodes.Status400BadRequest,
            CancelOutcomes.Unknown => StatusCodes.Status404NotFound,
            _ => StatusCodes.Status200OK,
        };
        return Results.Json(cancel.Answer, statusCode: code);
    }

    private static async Task<IResult> SignIn(HttpContext http, AdminAccess access, IOptions<AdminOptions> options)
    {
        var form = http.Request.HasFormContentType ? await http.Request.ReadFormAsync(http.RequestAborted) : null;
        if (!access.IsToken(form?["token"])) return Html(JobsPage.SignIn("That is not the token."), StatusCodes.Status401Unauthorized);
        http.Response.Cookies.Append(AdminAccess.Cookie, access.SessionValue, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = http.Request.IsHttps,
            Path = "/jobs",
        });
        return SeeOther(http, "/jobs/");
    }

    private static IResult SignOut(HttpContext http)
    {
        http.Response.Cookies.Delete(AdminAccess.Cookie, new CookieOptions { Path = "/jobs" });
        return SeeOther(http, "/jobs/");
    }

    // After a form post, the page to GET: 303, so no browser posts again.
    private static IResult SeeOther(HttpContext http, string path)
    {
        http.Response.Headers.Location = path;
        return Results.StatusCode(StatusCodes.Status303SeeOther);
    }

    /// <summary>The listing's parameters, or null and why not.</summary>
    public static JobQuery? ReadQuery(string? state, string? taskType, string? limit, string? cursor, out string? problem)
    {
        problem = null;
        JobState? jobState = string.IsNullOrEmpty(state) ? JobState.Pending : state.ToLowerInvariant() switch
        {
            "pending" => JobState.Pending,
            "succeeded" => JobState.Succeeded,
            "failed" => JobState.Failed,
            "cancelled" => JobState.Cancelled,
            _ => null,
        };
        var pageSize = DefaultLimit;
        JobCursor? after = null;
        if (jobState is null) problem = "state must be one of pending, succeeded, failed, cancelled.";
        else if (!string.IsNullOrEmpty(taskType) && !TaskTypes.All.Contains(taskType)) problem = $"taskType must be one of {string.Join(", ", TaskTypes.All)}.";
        else if (!string.IsNullOrEmpty(limit) && (!int.TryParse(limit, out pageSize) || pageSize is < 1 or > MaxLimit)) problem = $"limit must be a whole number from 1 to {MaxLimit}.";
        else if (!string.IsNullOrEmpty(cursor) && (after = JobCursor.Parse(cursor)) is null) problem = "cursor must be the next value of a page before.";
        return problem is null ? new JobQuery(jobState!.Value, string.IsNullOrEmpty(taskType) ? null : taskType, pageSize, after) : null;
    }

    // A reason from the page's form, or from a JSON body ({"reason": "..."}), or none; not readable: a body that is neither.
    private static async Task<(bool Readable, string? Reason)> ReadReasonAsync(HttpContext http)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = MaxBodyBytes;
        if (http.Request.HasFormContentType) return (true, (await http.Request.ReadFormAsync(http.RequestAborted))["reason"].ToString() is { Length: > 0 } said ? said : null);
        if (http.Request.ContentLength is 0 || (http.Request.ContentLength is null && !http.Request.Headers.TransferEncoding.Any())) return (true, null);
        if (!http.Request.HasJsonContentType()) return (false, null);
        try
        {
            return (true, (await http.Request.ReadFromJsonAsync<CancelRequest>(http.RequestAborted))?.Reason);
        }
        catch (JsonException)
        {
            return (false, null);
        }
    }

    private static Func<EndpointFilterInvocationContext, EndpointFilterDelegate, ValueTask<object?>> Allow(Func<HttpRequest, bool> allowed) => async (context, next) =>
    {
        if (allowed(context.HttpContext.Request)) return await next(context);
        // Nothing about the jobs, nor why: the same answer for a missing and a wrong token.
        context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
        return WantsHtml(context.HttpContext) ? Html(JobsPage.SignIn(null), StatusCodes.Status401Unauthorized) : Results.Unauthorized();
    };

    // Routing leaves %2F encoded in a route value (a slash would split the path): a job id, which is the sender's text,
    // may hold one, so it is read from the path as sent (/jobs/{taskType}/{jobId}[/cancel]), unescaped once, when that
    // path is plainly the one routed (an origin-form target, the same task type); otherwise the routed value stands.
    private static string JobIdAsSent(HttpContext http, string taskType, string routed)
    {
        if (http.Features.Get<IHttpRequestFeature>()?.RawTarget is not { } target || !target.StartsWith('/')) return routed;
        var path = target.Split('?', 2)[0].Split('/');
        var cancel = HttpMethods.IsPost(http.Request.Method);
        return path.Length == (cancel ? 5 : 4) && path[1] == "jobs" && Uri.UnescapeDataString(path[2]) == taskType && (!cancel || path[4] == "cancel")
            && path[3] is not ("." or "..")
            ? Uri.UnescapeDataString(path[3])
            : routed;
    }

    private static bool WantsHtml(HttpContext http) => http.Request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);

    private static IResult Problem(HttpContext http, int code, string message) =>
        WantsHtml(http) ? Html(JobsPage.Message(message), code) : Results.Json(new AdminProblem(message), statusCode: code);

    private static IResult Html(JobsPage.Rendered page, int code = StatusCodes.Status200OK) => new JobsPage.Result(page, code);
}
