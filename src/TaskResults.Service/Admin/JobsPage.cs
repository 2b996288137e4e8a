using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using TaskResults.Contracts;
using TaskResults.Service.Registry;
using TaskStatus = TaskResults.Contracts.TaskStatus;

namespace TaskResults.Service.Admin;

/// <summary>
/// The jobs page: plain server-rendered HTML, one small inline script (reload every Admin:PageRefresh, confirm a
/// cancel), nothing fetched from elsewhere. Everything a job carries is encoded: a job id is the sender's text.
/// </summary>
public static class JobsPage
{
    /// <summary>A page and the nonce its style and script carry (the Content-Security-Policy allows only those).</summary>
    public sealed record Rendered(string Html, string Nonce);

    /// <summary>Writes a page with headers that keep it to itself: no framing, no caching, nothing loaded from elsewhere.</summary>
    public sealed class Result(Rendered page, int statusCode) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            var headers = http.Response.Headers;
            http.Response.StatusCode = statusCode;
            http.Response.ContentType = "text/html; charset=utf-8";
            headers.ContentSecurityPolicy =
                $"default-src 'none'; style-src 'nonce-{page.Nonce}'; script-src 'nonce-{page.Nonce}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
            headers.CacheControl = "no-store";
            headers.XContentTypeOptions = "nosniff";
            // Not no-referrer: under it a browser sends "Origin: null" with the page's own form posts, which AdminAccess refuses.
            headers["Referrer-Policy"] = "same-origin";
            return http.Response.WriteAsync(page.Html, http.RequestAborted);
        }
    }

    private static readonly string[] States = [TaskStates.Pending, TaskStates.Succeeded, TaskStates.Failed, TaskStates.Cancelled];

    public static string JobPath(string taskType, string jobId) => $"/jobs/{Uri.EscapeDataString(taskType)}/{Uri.EscapeDataString(jobId)}";

    public static Rendered List(JobList list, JobQuery query, AdminOptions options, bool isOperator)
    {
        var state = JobRecordChecks.WireValue(query.State);
        var html = new StringBuilder();
        html.Append("<form class=\"filters\" method=\"get\" action=\"/jobs/\"><label>State <select name=\"state\">");
        foreach (var option in States) html.Append($"<option{(option == state ? " selected" : "")}>{option}</option>");
        html.Append("</select></label> <label>Task type <select name=\"taskType\"><option value=\"\">all</option>");
        foreach (var type in TaskTypes.All) html.Append($"<option{(type == query.TaskType ? " selected" : "")}>{type}</option>");
        html.Append("</select></label> <button>Show</button></form>");

        if (list.Jobs.Count == 0)
        {
            html.Append($"<p id=\"none\">No {state.ToLowerInvariant()} jobs{(query.After is not null ? " after these" : "")}.</p>");
        }
        else
        {
            html.Append("<table id=\"jobs\"><thead><tr><th>Job</th><th>Task type</th><th>State</th><th>Attempts</th><th>Last status</th>")
                .Append("<th>Next check</th><th>Deadline</th><th>Updated</th></tr></thead><tbody>");
            foreach (var job in list.Jobs)
            {
                html.Append($"<tr><td><a href=\"{Attr(JobPath(job.TaskType, job.JobId))}\">{Text(job.JobId)}</a></td><td>{Text(job.TaskType)}</td>")
                    .Append($"<td class=\"state {job.State.ToLowerInvariant()}\">{job.State}</td><td>{job.Attempts}</td><td>{Text(job.LastStatus)}</td>")
                    .Append($"<td>{Time(job.NextCheckAt)}</td><td>{Time(job.Deadline)}</td><td>{Time(job.UpdatedAt)}</td></tr>");
            }

            html.Append("</tbody></table>");
        }

        if (list.Next is { } next)
        {
            var more = $"/jobs/?state={state}&taskType={Uri.EscapeDataString(query.TaskType ?? "")}&limit={query.Limit}&cursor={Uri.EscapeDataString(next)}";
            html.Append($"<p><a id=\"next\" href=\"{Attr(more)}\">Next page</a></p>");
        }

        return Page($"{state} jobs", html.ToString(), options, isOperator);
    }

    public static Rendered Detail(TaskStatus job, AdminOptions options, bool isOperator)
    {
        var html = new StringBuilder();
        html.Append(job.State == TaskStates.Unknown ? "<p><a href=\"/jobs/\">← Pending jobs</a></p>" : $"<p><a href=\"/jobs/?state={job.State}\">← {Text(job.State)} jobs</a></p>")
            .Append($"<h2>{Text(job.JobId)}</h2><dl>")
            .Append($"<dt>Task type</dt><dd>{Text(job.TaskType)}</dd>")
            .Append($"<dt>State</dt><dd id=\"state\" class=\"state {job.State.ToLowerInvariant()}\">{Text(job.State)}</dd>");
        if (job.State == TaskStates.Unknown)
        {
            html.Append("</dl><p>The registry does not know this job: never checked here, or forgotten after the retention.</p>");
            return Page(job.JobId, html.ToString(), options, isOperator);
        }

        html.Append($"<dt>Attempts</dt><dd id=\"attempts\">{job.Attempts}</dd><dt>Last status</dt><dd>{Text(job.LastStatus)}</dd>")
            .Append($"<dt>First check</dt><dd>{Time(job.FirstCheckAt)}</dd><dt>Next check</dt><dd>{Time(job.NextCheckAt)}</dd>")
            .Append($"<dt>Deadline</dt><dd>{Time(job.Deadline)}</dd><dt>Updated</dt><dd>{Time(job.UpdatedAt)}</dd><dt>Trace</dt><dd id=\"trace\">");
        if (options.TraceUrl(job.TraceId) is { } trace) html.Append($"<a href=\"{Attr(trace.AbsoluteUri)}\">{Text(job.TraceId)}</a>");
        else html.Append(Text(job.TraceId));
        html.Append("</dd></dl>");

        if (job.Failed is { } failed)
        {
            html.Append($"<h3>Failed: {Text(failed.Reason)}</h3><dl><dt>Message</dt><dd id=\"message\">{Text(failed.ErrorMessage)}</dd>")
                .Append($"<dt>Error code</dt><dd>{Text(failed.ErrorCode)}</dd><dt>HTTP status</dt><dd>{failed.HttpStatus}</dd></dl>");
        }

        if (job.Succeeded is { } succeeded)
        {
            html.Append($"<h3>Succeeded</h3><p>Results (until {Time(succeeded.ResultsExpireAt)}):</p><ul id=\"results\">");
            foreach (var url in succeeded.ResultUrls) html.Append($"<li>{Text(url)}</li>");
            html.Append("</ul>");
        }

        html.Append("<h3>Checks</h3><table id=\"checks\"><thead><tr><th>At</th><th>Attempt</th><th>Status</th><th>State</th></tr></thead><tbody>");
        foreach (var check in job.Checks ?? [])
            html.Append($"<tr><td>{Time(check.At)}</td><td>{check.Attempt}</td><td>{Text(check.Status)}</td><td>{Text(check.State)}</td></tr>");
        html.Append("</tbody></table>");

        if (job.State == TaskStates.Pending)
        {
            html.Append($"<form id=\"cancel\" method=\"post\" action=\"{Attr(JobPath(job.TaskType, job.JobId))}/cancel\" data-confirm=\"{Attr($"Cancel job {job.JobId}? Its TaskFailed (CANCELLED) goes out at once.")}\">")
                .Append("<label>Reason <input name=\"reason\" maxlength=\"500\" placeholder=\"optional\"></label> <button>Cancel job</button>")
                .Append(isOperator ? "" : " <small>(needs the token: sign in first)</small>")
                .Append("</form>");
        }

        return Page(job.JobId, html.ToString(), options, isOperator);
    }

    /// <summary>The sign-in form: all a request without the token sees.</summary>
    public static Rendered SignIn(string? problem) => Page("Sign in",
        (problem is null ? "" : $"<p class=\"problem\">{Text(problem)}</p>")
        + "<form id=\"sign-in\" method=\"post\" action=\"/jobs/sign-in\"><label>Token <input type=\"password\" name=\"token\" autocomplete=\"current-password\"></label> <button>Sign in</button></form>",
        refresh: null, isOperator: false);

    public static Rendered Message(string message) => Page("Not available", $"<p class=\"problem\">{Text(message)}</p>", refresh: null, isOperator: false);

    private static Rendered Page(string title, string main, AdminOptions options, bool isOperator) => Page(title, main, options.PageRefresh, isOperator);

    private static Rendered Page(string title, string main, TimeSpan? refresh, bool isOperator)
    {
        var nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var signOut = isOperator ? "<form method=\"post\" action=\"/jobs/sign-out\"><button>Sign out</button></form>" : "";
        // Reloads by itself, but never under a cancel being confirmed or a reason being typed.
        var script = refresh is not { } every ? "" : $$"""
            <script nonce="{{nonce}}">
            let timer;
            const start = () => { clearTimeout(timer); timer = setTimeout(() => location.reload(), {{(long)every.TotalMilliseconds}}); };
            const stop = () => clearTimeout(timer);
            document.addEventListener('focusin', e => { if (e.target.matches('input, select')) stop(); });
            document.addEventListener('focusout', start);
            for (const form of document.querySelectorAll('form[data-confirm]')) {
              form.addEventListener('submit', e => { stop(); if (!confirm(form.dataset.confirm)) { e.preventDefault(); start(); } });
            }
            start();
            </script>
            """;
        return new Rendered($$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{Text(title)}} · TaskResults</title>
            <style nonce="{{nonce}}">
            body { font: 15px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d232a; }
            header { display: flex; justify-content: space-between; align-items: center; border-bottom: 1px solid #d0d7de; }
            header h1 { font-size: 1.25rem; } header a { color: inherit; text-decoration: none; }
            table { border-collapse: collapse; margin: 1rem 0; } th, td { padding: .3rem .7rem; border-bottom: 1px solid #e5e9ed; text-align: left; }
            th { background: #f3f5f7; } dl { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; } dd { margin: 0; }
            .state.pending { color: #9a6700; } .state.succeeded { color: #1a7f37; } .state.failed, .state.cancelled { color: #cf222e; }
            .problem { color: #cf222e; } form.filters { margin: 1rem 0; } #cancel { margin-top: 1rem; }
            </style></head>
            <body><header><h1><a href="/jobs/">TaskResults jobs</a></h1>{{signOut}}</header>
            <main>{{main}}</main>
            {{script}}
            </body></html>
            """, nonce);
    }

    private static string Text(string? value) => value is null ? "–" : HtmlEncoder.Default.Encode(value);

    private static string Attr(string value) => HtmlEncoder.Default.Encode(value);

    private static string Time(DateTimeOffset? at) => at is { } time ? time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture) : "–";
}
