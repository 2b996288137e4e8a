using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using OpenQA.Selenium;
using TaskResults.IntegrationTests.Support;

namespace TaskResults.IntegrationTests;

/// <summary>
/// Issue 14's page and endpoints on the real broker, a real Redis and the real service process, in a real
/// browser (Debian's chromium): a request without the token is refused; signed in, the list shows a pending
/// job (and one sent later, as the page reloads itself), its detail shows its checks and its trace, and
/// cancel turns it to Cancelled and publishes TaskFailed CANCELLED. Screenshots in test-results/screenshots.
/// </summary>
public sealed class When_jobs_are_seen_in_a_browser(Broker broker, RedisServer redis) : RealBrokerScenario(broker), IClassFixture<RedisServer>
{
    private const string Token = "it-admin-token-5b1f0c9e8d7a6b5c";
    private static readonly TimeSpan PageTimeout = TimeSpan.FromSeconds(60);

    // Five seconds between checks: jobs wait while the browser looks at them, even on a busy machine.
    private Task<ServiceProcess> StartServiceWithJobsPage() => StartService(new Dictionary<string, string>
    {
        ["Registry__Store"] = "Redis",
        ["ConnectionStrings__Redis"] = redis.ConnectionString,
        ["Registry__KeyPrefix"] = "it-" + Guid.NewGuid().ToString("N"),
        ["Polling__Interval"] = "00:00:05",
        ["Polling__MaxInterval"] = "00:00:05",
        ["Admin__Token"] = Token,
        ["Admin__PageRefresh"] = "00:00:01",
        ["Admin__TraceUrlTemplate"] = "http://jaeger.example:16686/trace/{traceId}",
    });

    private async Task SendPending(string jobId)
    {
        Api.Script(jobId, FakeResponse.Status("QUEUING"));
        await Listener.Send(new CheckTaskResult { JobId = jobId, TaskType = TaskTypes.HdColourMigration });
        await Listener.WaitFor<TaskPending>(jobId, EventTimeout);
    }

    [Fact]
    public async Task Should_list_a_pending_job_show_its_checks_and_cancel_it()
    {
        var service = await StartServiceWithJobsPage();
        await SendPending("browsed");
        using var browser = Browser.Start();
        var page = browser.Driver;

        // No token: the sign-in form, nothing else.
        page.Navigate().GoToUrl($"{service.HealthUrl}/jobs/");
        Assert.NotNull(page.FindElement(By.Id("sign-in")));
        Assert.DoesNotContain("browsed", page.PageSource);
        page.FindElement(By.Name("token")).SendKeys("not-the-token-0123456789");
        page.FindElement(By.CssSelector("#sign-in button")).Click();
        await browser.Until(p => p.FindElement(By.ClassName("problem")).Text.Contains("not the token"), PageTimeout, "a wrong token is refused");
        Assert.DoesNotContain("browsed", page.PageSource);

        page.FindElement(By.Name("token")).SendKeys(Token);
        page.FindElement(By.CssSelector("#sign-in button")).Click();
        await browser.Until(p => p.FindElements(By.LinkText("browsed")).Count == 1, PageTimeout, "the list shows the pending job");

        // A job sent now shows up without anyone reloading: the page does it.
        await SendPending("browsed-later");
        await browser.Until(p => p.FindElements(By.LinkText("browsed-later")).Count == 1, PageTimeout, "the list reloads itself");
        browser.Screenshot("jobs-list");

        // The page reloads itself every second: a click may land on a page being replaced and do nothing. So each step
        // looks at where the browser is, and clicks again until the page it leads to is there.
        await browser.Until(p =>
        {
            if (p.FindElements(By.Id("checks")).Count == 0)
            {
                p.FindElement(By.LinkText("browsed")).Click();
                return false;
            }

            return p.FindElement(By.Id("checks")).Text.Contains("QUEUING") && p.FindElement(By.Id("state")).Text == "Pending"
                && p.FindElement(By.CssSelector("#trace a")).GetAttribute("href")!.StartsWith("http://jaeger.example:16686/trace/", StringComparison.Ordinal);
        }, PageTimeout, "the detail shows the pending job's checks and a link to its trace");
        browser.Screenshot("job-detail");

        // The reason typed and the button pressed in one form, the confirmation accepted; again if a reload swallowed the click.
        var confirmedAt = DateTime.MinValue;
        await browser.Until(p =>
        {
            try
            {
                p.SwitchTo().Alert().Accept();
                confirmedAt = DateTime.UtcNow;
                return false;
            }
            catch (NoAlertPresentException)
            {
            }

            if (p.FindElement(By.Id("state")).Text == "Cancelled") return true;
            // Confirmed: the post and the page after it are on their way.
            if (DateTime.UtcNow - confirmedAt < TimeSpan.FromSeconds(10)) return false;
            var form = p.FindElement(By.Id("cancel"));
            var reason = form.FindElement(By.Name("reason"));
            reason.Clear();
            reason.SendKeys("closed by the operator");
            if (reason.GetAttribute("value") == "closed by the operator") form.FindElement(By.TagName("button")).Click();
            return false;
        }, PageTimeout, "the job is cancelled from its page");
        browser.Screenshot("job-cancelled");

        var failed = (await Listener.WaitFor<TaskFailed>("browsed", EventTimeout)).Message;
        Assert.Equal((FailureReasons.Cancelled, "closed by the operator"), (failed.Reason, failed.ErrorMessage));
        Assert.Empty(Listener.Events<TaskFailed>("browsed-later"));
    }

    [Fact]
    public async Task Should_answer_scripts_with_the_token_and_refuse_them_without()
    {
        var service = await StartServiceWithJobsPage();
        await SendPending("scripted");
        using var http = new HttpClient { BaseAddress = new Uri(service.HealthUrl), Timeout = TimeSpan.FromSeconds(30) };

        using (var refused = await http.GetAsync("/jobs/HD_COLOUR_MIGRATION/scripted"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.DoesNotContain("scripted", await refused.Content.ReadAsStringAsync());
        }

        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var list = JsonDocument.Parse(await http.GetStringAsync("/jobs?state=pending"));
        Assert.Contains(list.RootElement.GetProperty("jobs").EnumerateArray(), job => job.GetProperty("jobId").GetString() == "scripted");
        using var status = JsonDocument.Parse(await http.GetStringAsync("/jobs/HD_COLOUR_MIGRATION/scripted"));
        Assert.Equal(("Pending", "QUEUING"), (status.RootElement.GetProperty("state").GetString(), status.RootElement.GetProperty("lastStatus").GetString()));
        Assert.Matches("^[0-9a-f]{32}$", status.RootElement.GetProperty("traceId").GetString());

        using var cancel = await http.PostAsync("/jobs/HD_COLOUR_MIGRATION/scripted/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal(FailureReasons.Cancelled, (await Listener.WaitFor<TaskFailed>("scripted", EventTimeout)).Message.Reason);
    }
}
