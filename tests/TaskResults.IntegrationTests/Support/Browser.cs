using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace TaskResults.IntegrationTests.Support;

/// <summary>
/// Debian's chromium, headless, driven through its own chromedriver (both installed by scripts/install-deps.sh;
/// Selenium's driver download is never used). Screenshots go to test-results/screenshots in the checkout.
/// </summary>
public sealed class Browser : IDisposable
{
    private const string Chromium = "/usr/bin/chromium";
    private const string ChromeDriver = "/usr/bin/chromedriver";

    private Browser(ChromeDriver driver) => Driver = driver;

    public ChromeDriver Driver { get; }

    public static string ScreenshotDirectory => Path.Combine(RepositoryRoot.Path, "test-results", "screenshots");

    public static Browser Start()
    {
        Assert.True(File.Exists(Chromium) && File.Exists(ChromeDriver), $"{Chromium} and {ChromeDriver} are needed: scripts/install-deps.sh installs them.");
        var options = new ChromeOptions { BinaryLocation = Chromium };
        // Root in CI: no sandbox; no GPU; /dev/shm may be small.
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,800", "--lang=en");
        // The driver's service picks a free port and then binds it: another process may take it in between, so try again.
        for (var attempt = 1; ; attempt++)
        {
            var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(ChromeDriver)!, Path.GetFileName(ChromeDriver));
            service.SuppressInitialDiagnosticInformation = true;
            service.HideCommandPromptWindow = true;
            try
            {
                var driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
                driver.Manage().Timeouts().PageLoad = TimeSpan.FromSeconds(60);
                return new Browser(driver);
            }
            catch (WebDriverException) when (attempt < 3)
            {
                service.Dispose();
            }
        }
    }

    /// <summary>Waits until <paramref name="ready"/> holds on the page (reloaded by itself, or navigated), up to <paramref name="timeout"/>.</summary>
    public async Task Until(Func<IWebDriver, bool> ready, TimeSpan timeout, string what)
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                if (ready(Driver)) return;
            }
            catch (WebDriverException)
            {
                // The page was between two loads (it reloads itself): ask again.
            }

            if (DateTime.UtcNow >= until)
            {
                Screenshot("failed-" + string.Concat(what.Where(char.IsLetterOrDigit)));
                Assert.Fail($"Not within {timeout}: {what}. The page at {Driver.Url} ({Driver.Title}):\n{Text()}");
            }

            await Task.Delay(100);
        }
    }

    // The page's text, not its source: an error page's source is mostly script.
    private string Text()
    {
        try
        {
            return Driver.FindElement(By.TagName("body")).Text;
        }
        catch (WebDriverException exception)
        {
            return exception.Message;
        }
    }

    public string Screenshot(string name)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        var path = Path.Combine(ScreenshotDirectory, name + ".png");
        Driver.GetScreenshot().SaveAsFile(path);
        return path;
    }

    public void Dispose()
    {
        Driver.Quit();
        Driver.Dispose();
    }
}
