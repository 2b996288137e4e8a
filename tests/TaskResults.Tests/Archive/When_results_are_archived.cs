using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TaskResults.Service.Extensions;
using System.Security.Cryptography;
using TaskResults.Service.Archive;

namespace TaskResults.Tests.Archive;

/// <summary>
/// Archiving (issue 15) into the file-system store, with the in-memory bus and a real file host on 127.0.0.1: a
/// succeeded job's files stored under deterministic keys and announced; the same job again uploads nothing; a host
/// off the list (or a redirect to one), a file over the cap, a missing file refused for good; a host that fails
/// tried again until the results expire; the API key never sent to the file host.
/// </summary>
public sealed class When_results_are_archived : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "taskresults-archive-spec-" + Guid.NewGuid().ToString("N"));
    private FakeFileHost _files = null!;

    public async Task InitializeAsync() => _files = await FakeFileHost.StartAsync();

    public async Task DisposeAsync()
    {
        await _files.DisposeAsync();
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    private Task<ServiceHarness> Service(long maxBytes = 1_000_000, TimeSpan? inactivity = null, Action<Dictionary<string, string?>>? configure = null,
        Action<IServiceCollection>? services = null) => ServiceHarness.StartAsync(settings =>
    {
        settings["Archive:Store"] = "FileSystem";
        settings["Archive:Directory"] = _directory;
        settings["Archive:AllowedHosts:0"] = "127.0.0.1";
        settings["Archive:MaxBytes"] = maxBytes.ToString();
        configure?.Invoke(settings);
    }, services, inactivity);

    private static async Task Archive(ServiceHarness service, string jobId, DateTimeOffset? expireAt = null, params string[] urls)
    {
        var endpoint = await service.Harness.Bus.GetSendEndpoint(TaskResultsEndpoints.Archive);
        await endpoint.Send(new ArchiveTaskResults
        {
            JobId = jobId,
            TaskType = TaskTypes.HdColourMigration,
            ResultUrls = urls,
            ResultsExpireAt = expireAt ?? DateTimeOffset.UtcNow.AddHours(24),
        });
    }

    [Fact]
    public async Task Should_store_every_result_file_of_a_succeeded_job_and_say_where()
    {
        await using var service = await Service();
        string[] urls = [_files.Url("first.png"), _files.Url("second")];
        service.Api.Script("archived", FakeResponse.Status("PROCESS_SUCCESS", imageList: urls));

        await service.Send(new CheckTaskResult { JobId = "archived", TaskType = TaskTypes.HdColourMigration });

        Assert.Equal(urls, (await service.WaitFor<TaskSucceeded>("archived")).Context.Message.ResultUrls);
        var archived = (await service.WaitFor<TaskResultsArchived>("archived")).Context.Message;
        Assert.Equal(urls, archived.Files.Select(file => file.SourceUrl));
        foreach (var (file, name, n) in archived.Files.Zip(["first.png", "second"], [1, 2]))
        {
            var path = new Uri(file.Location).LocalPath;
            Assert.Equal(Path.Combine(_directory, "task-results", TaskTypes.HdColourMigration, "archived", $"{n}.png"), path);
            Assert.Equal(FakeFileHost.Content(name), await File.ReadAllBytesAsync(path));
            Assert.Equal((1024L, Convert.ToHexStringLower(SHA256.HashData(FakeFileHost.Content(name))), "image/png"), (file.Size, file.Sha256, file.ContentType));
        }

        Assert.All(_files.Requests, request => Assert.DoesNotContain(request.Headers.Values, value => value.Contains(FakeAILabToolsApi.ApiKey)));
        Assert.All(_files.Requests, request => Assert.DoesNotContain("ailabapi-api-key", request.Headers.Keys, StringComparer.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Should_store_nothing_twice_and_name_the_same_places()
    {
        await using var service = await Service();
        await Archive(service, "twice", null, _files.Url("again.png"));
        var first = (await service.WaitFor<TaskResultsArchived>("twice")).Context.Message.Files.Single();
        var path = new Uri(first.Location).LocalPath;
        var written = File.GetLastWriteTimeUtc(path);
        File.SetLastWriteTimeUtc(path, written.AddMinutes(-5));

        await Archive(service, "twice", null, _files.Url("again.png"));

        Assert.True(await service.Harness.Published.SelectAsync<TaskResultsArchived>(m => m.Context.Message.JobId == "twice").Skip(1).Any());
        var second = service.Events<TaskResultsArchived>("twice")[1].Files.Single();
        Assert.Equal(first, second);
        Assert.Equal(written.AddMinutes(-5), File.GetLastWriteTimeUtc(path));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));
    }

    [Fact]
    public async Task Should_download_into_the_stores_own_directory_and_sweep_what_a_killed_process_left_there()
    {
        var copies = Path.Combine(_directory, ".taskresults-copies");
        Directory.CreateDirectory(copies);
        var stale = Path.Combine(copies, "left-by-a-killed-process.part");
        await File.WriteAllTextAsync(stale, "half a file");
        File.SetLastWriteTimeUtc(stale, DateTime.UtcNow.AddHours(-2));
        await using var service = await Service();

        await Archive(service, "renamed", null, _files.Url("renamed.png"));

        var stored = new Uri((await service.WaitFor<TaskResultsArchived>("renamed")).Context.Message.Files.Single().Location).LocalPath;
        Assert.Equal(FakeFileHost.Content("renamed.png"), await File.ReadAllBytesAsync(stored));
        // The copy was made on the store's own file system and renamed into place: nothing left beside it, the stale copy swept.
        Assert.Empty(Directory.GetFileSystemEntries(copies));
        Assert.Equal([copies, Path.Combine(_directory, "task-results")], Directory.GetDirectories(_directory).Order());
    }

    [Theory]
    [InlineData("localhost", ArchiveFailureReasons.NotAllowed)]
    [InlineData("redirect-out.png", ArchiveFailureReasons.NotAllowed)]
    [InlineData("missing.png", ArchiveFailureReasons.NotFound)]
    [InlineData("gone.png", ArchiveFailureReasons.NotFound)]
    [InlineData("big.png", ArchiveFailureReasons.TooLarge)]
    [InlineData("chunked.png", ArchiveFailureReasons.TooLarge)]
    public async Task Should_refuse_for_good_what_can_never_be_stored(string file, string reason)
    {
        await using var service = await Service(maxBytes: 2000);
        var url = file == "localhost" ? _files.Url("ok.png").Replace("127.0.0.1", "localhost") : _files.Url(file);

        await Archive(service, "refused", null, url);

        var failed = (await service.WaitFor<TaskResultsArchiveFailed>("refused")).Context.Message;
        Assert.Equal((reason, url), (failed.Reason, failed.Url));
        Assert.Empty(service.Events<TaskResultsArchived>("refused"));
        // Off the list: never asked. A redirect off the list: its target never asked (it is not this host either way).
        if (file == "localhost") Assert.Empty(_files.Requests);
        Assert.False(Directory.Exists(_directory) && Directory.EnumerateFiles(_directory, "*", SearchOption.AllDirectories).Any());
    }

    [Fact]
    public async Task Should_follow_a_redirect_within_the_allowed_hosts()
    {
        await using var service = await Service();

        await Archive(service, "redirected", null, _files.Url("redirect-in.png"));

        var file = (await service.WaitFor<TaskResultsArchived>("redirected")).Context.Message.Files.Single();
        Assert.Equal(FakeFileHost.Content("ok.png"), await File.ReadAllBytesAsync(new Uri(file.Location).LocalPath));
    }

    [Fact]
    public async Task Should_try_again_when_the_host_fails_once()
    {
        // Idle longer than the first wait between attempts (5 s), or the harness stops waiting for the event after it.
        await using var service = await Service(inactivity: TimeSpan.FromSeconds(8));
        service.Harness.TestTimeout = TimeSpan.FromSeconds(30);

        await Archive(service, "flaky", null, _files.Url("flaky.png"));

        // The first attempt fails (503); the job waits its first delay and then succeeds.
        Assert.NotNull(await service.WaitFor<TaskResultsArchived>("flaky"));
        Assert.Equal(2, _files.Requests.Count(request => request.Path == "/files/flaky.png"));
        Assert.Empty(service.Events<TaskResultsArchiveFailed>("flaky"));
    }

    [Fact]
    public async Task Should_give_up_when_the_results_expire_first()
    {
        await using var service = await Service();

        // The next try would come after the files are gone: EXPIRED at once.
        await Archive(service, "expiring", DateTimeOffset.UtcNow.AddSeconds(2), _files.Url("down.png"));

        var failed = (await service.WaitFor<TaskResultsArchiveFailed>("expiring")).Context.Message;
        Assert.Equal(ArchiveFailureReasons.Expired, failed.Reason);
        Assert.Contains("503", failed.Details);
    }

    [Fact]
    public async Task Should_refuse_a_listed_name_that_resolves_to_an_internal_address()
    {
        // localhost is on the list, 127.0.0.1 is not: the name alone lets nothing reach this machine.
        await using var service = await Service(configure: settings => settings["Archive:AllowedHosts:0"] = "localhost");
        var url = _files.Url("ok.png").Replace("127.0.0.1", "localhost");

        await Archive(service, "rebound", null, url);

        var failed = (await service.WaitFor<TaskResultsArchiveFailed>("rebound")).Context.Message;
        Assert.Equal(ArchiveFailureReasons.NotAllowed, failed.Reason);
        Assert.Contains("internal address", failed.Details);
        Assert.Empty(_files.Requests);
    }

    [Fact]
    public void Should_allow_only_the_configured_hosts_when_some_are_configured()
    {
        var configured = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Archive:AllowedHosts:0"] = "files.example.com" }).Build())
            .AddLogging().AddTaskResultsCore().BuildServiceProvider();
        var unconfigured = new ServiceCollection().AddSingleton<IConfiguration>(new ConfigurationBuilder().Build()).AddLogging().AddTaskResultsCore().BuildServiceProvider();

        Assert.Equal(["files.example.com"], configured.GetRequiredService<IOptions<ArchiveOptions>>().Value.AllowedHosts);
        Assert.Equal(ArchiveOptions.VendorHosts, unconfigured.GetRequiredService<IOptions<ArchiveOptions>>().Value.AllowedHosts);
    }

    [Fact]
    public async Task Should_try_again_and_then_report_a_store_that_throws_what_it_never_said_it_would()
    {
        await using var service = await Service(services: collection => collection.AddSingleton<IResultStore>(new ThrowingStore()));

        await Archive(service, "thrown", DateTimeOffset.UtcNow.AddSeconds(2), _files.Url("ok.png"));

        var failed = (await service.WaitFor<TaskResultsArchiveFailed>("thrown")).Context.Message;
        Assert.Equal(ArchiveFailureReasons.StoreError, failed.Reason);
        Assert.Contains("Retry failed", failed.Details);
        Assert.False(await service.Harness.Published.Any<Fault<ArchiveTaskResults>>());
    }

    [Theory]
    [InlineData(256, 'a')]
    [InlineData(100, '漢')]
    public async Task Should_store_the_files_of_a_long_job_id_under_a_short_key(int length, char letter)
    {
        var jobId = new string(letter, length);
        await using var service = await Service(configure: settings => settings["Archive:Directory"] = _directory + "/");

        await Archive(service, jobId, null, _files.Url("long.png"));

        var file = (await service.WaitFor<TaskResultsArchived>(jobId)).Context.Message.Files.Single();
        var path = new Uri(file.Location).LocalPath;
        Assert.True(Path.GetFileName(Path.GetDirectoryName(path))!.Length <= 200);
        Assert.Equal(FakeFileHost.Content("long.png"), await File.ReadAllBytesAsync(path));
    }

    [Theory]
    [InlineData("01:00:00")]
    [InlineData(null)]
    public async Task Should_hand_out_a_read_url_per_file_for_the_configured_lifetime_and_none_without_one(string? lifetime)
    {
        var signing = new SigningStore(new FileSystemResultStore(Microsoft.Extensions.Options.Options.Create(new ArchiveOptions { Directory = _directory })));
        // A store that signs read URLs (as S3 does) and keeps the files in the directory.
        await using var service = await Service(configure: settings =>
        {
            settings["Archive:Store"] = "S3";
            settings["Archive:S3:Bucket"] = "results";
            settings["Archive:ReadUrlLifetime"] = lifetime;
        }, services: collection => collection.AddSingleton<IResultStore>(signing));
        var before = DateTimeOffset.UtcNow;

        await Archive(service, "signed", null, _files.Url("a.png"), _files.Url("b.png"));

        var files = (await service.WaitFor<TaskResultsArchived>("signed")).Context.Message.Files;
        var after = DateTimeOffset.UtcNow;
        Assert.Equal(2, files.Count);
        if (lifetime is null)
        {
            Assert.All(files, file => Assert.Equal((null, null), (file.ReadUrl, file.ReadUrlExpiresAt)));
            Assert.Equal(0, signing.Signed);
            return;
        }

        foreach (var (file, n) in files.Zip([1, 2]))
        {
            var until = Assert.NotNull(file.ReadUrlExpiresAt);
            Assert.InRange(until, before.AddHours(1), after.AddHours(1));
            Assert.Equal($"https://read.example/task-results/HD_COLOUR_MIGRATION/signed/{n}.png?until={until.ToUnixTimeMilliseconds()}", file.ReadUrl);
        }
    }

    [Theory]
    [InlineData("FileSystem", "01:00:00", null, "applies to the S3 and AzureBlob stores")]
    [InlineData("None", "01:00:00", null, "applies to the S3 and AzureBlob stores")]
    [InlineData("AzureBlob", "01:00:00", null, "needs Archive:Azure:ConnectionString with the account key")]
    [InlineData("AzureBlob", "01:00:00", SasOnly, "needs Archive:Azure:ConnectionString with the account key")]
    [InlineData("AzureBlob", "01:00:00", "UseDevelopmentStorage=true", null)]
    [InlineData("S3", "8.00:00:00", null, "from 1 minute (00:01:00) to 7 days")]
    [InlineData("S3", "00:00:30", null, "from 1 minute (00:01:00) to 7 days")]
    [InlineData("S3", "7.00:00:00", null, null)]
    public void Should_refuse_a_read_url_lifetime_no_store_could_sign(string store, string lifetime, string? connectionString, string? problem)
    {
        var options = new ArchiveOptions
        {
            Store = Enum.Parse<ArchiveStore>(store), Directory = _directory, ReadUrlLifetime = TimeSpan.Parse(lifetime, System.Globalization.CultureInfo.InvariantCulture),
            S3 = { Bucket = "results" },
            Azure = { Container = "results", ConnectionString = connectionString, ServiceUri = new Uri("https://account.blob.core.windows.net") },
        };

        var problems = options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).Select(result => result.ErrorMessage).ToList();

        if (problem is null) Assert.Empty(problems);
        else Assert.Contains(problems, message => message!.Contains(problem, StringComparison.Ordinal));
    }

    // A connection string that grants access through a SAS of its own: it holds no account key to sign others with.
    private const string SasOnly = "BlobEndpoint=https://account.blob.core.windows.net/;SharedAccessSignature=sv=2022-11-02&ss=b&srt=co&sp=rl&se=2030-01-01T00:00:00Z&sig=c2lnbmF0dXJl";

    // Signs a made-up URL naming the key and the expiry; counts what it signed.
    private sealed class SigningStore(IResultStore inner) : IResultStore
    {
        private int _signed;

        public int Signed => Volatile.Read(ref _signed);

        public Task<StoredFile?> FindAsync(string key, CancellationToken cancellationToken) => inner.FindAsync(key, cancellationToken);

        public Task<string> PutAsync(string key, string file, long size, string sha256, string contentType, CancellationToken cancellationToken) =>
            inner.PutAsync(key, file, size, sha256, contentType, cancellationToken);

        public Task<ReadUrl?> ReadUrlAsync(string key, DateTimeOffset expiresAt, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _signed);
            return Task.FromResult<ReadUrl?>(new ReadUrl($"https://read.example/{key}?until={expiresAt.ToUnixTimeMilliseconds()}", expiresAt));
        }
    }

    private sealed class ThrowingStore : IResultStore
    {
        public Task<StoredFile?> FindAsync(string key, CancellationToken cancellationToken) =>
            throw new AggregateException("Retry failed after 4 tries.", new HttpRequestException("Connection refused"));

        public Task<string> PutAsync(string key, string file, long size, string sha256, string contentType, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("never asked");
    }

    [Theory]
    [InlineData("../../escape", "..%2F..%2Fescape")]
    [InlineData("..", "%2E%2E")]
    [InlineData("job id", "job%20id")]
    public void Should_keep_a_job_id_to_one_key_part(string jobId, string part) =>
        Assert.Equal($"task-results/HD_COLOUR_MIGRATION/{part}/1.png", ArchiveKeys.For("task-results", TaskTypes.HdColourMigration, jobId, 1, "image/png", "https://x/y"));

    [Theory]
    [InlineData("image/jpeg", "https://x/a.png", ".jpg")]
    [InlineData("application/octet-stream", "https://x/a.WEBP?sig=1", ".webp")]
    [InlineData("application/octet-stream", "https://x/a.tar.gz.toolongext", "")]
    [InlineData("application/octet-stream", "https://x/dir.d/file", "")]
    public void Should_name_the_extension_by_content_type_then_url(string contentType, string url, string extension) =>
        Assert.Equal(extension, ArchiveKeys.Extension(contentType, url));
}
