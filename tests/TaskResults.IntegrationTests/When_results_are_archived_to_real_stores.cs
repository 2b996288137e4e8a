using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Azure.Storage.Blobs;
using TaskResults.IntegrationTests.Support;

namespace TaskResults.IntegrationTests;

/// <summary>
/// Issue 15 on the real broker with the real service process and real stores on 127.0.0.1 (s3rver, Azure's Azurite,
/// a directory): both task types' files stored and read back, by their read URLs too where the store signs them; an S3 store that refuses for a while (its bucket gone)
/// and then takes the files, one copy; kill -9 mid-download and a new instance, nothing lost, one copy; the broker restarted mid-download, the same.
/// </summary>
public sealed class When_results_are_archived_to_real_stores(Broker broker, S3Server s3, AzuriteServer azurite)
    : RealBrokerScenario(broker), IClassFixture<S3Server>, IClassFixture<AzuriteServer>
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "taskresults-archive-it-" + Guid.NewGuid().ToString("N"));
    private readonly string _prefix = "it-" + Guid.NewGuid().ToString("N")[..8];

    private AmazonS3Client S3Client() => new(new BasicAWSCredentials("S3RVER", "S3RVER"),
        new AmazonS3Config { ServiceURL = s3.ServiceUrl, ForcePathStyle = true, AuthenticationRegion = "us-east-1" });

    private Dictionary<string, string> Archive(string store)
    {
        var environment = new Dictionary<string, string>
        {
            ["Archive__Store"] = store,
            ["Archive__Prefix"] = _prefix,
            ["Archive__AllowedHosts__0"] = "127.0.0.1",
        };
        switch (store)
        {
            case "FileSystem":
                environment["Archive__Directory"] = _directory;
                break;
            case "S3":
                environment["Archive__S3__Bucket"] = S3Server.Bucket;
                environment["Archive__S3__ServiceUrl"] = s3.ServiceUrl;
                environment["Archive__S3__ForcePathStyle"] = "true";
                environment["Archive__S3__Region"] = "us-east-1";
                environment["AWS_ACCESS_KEY_ID"] = "S3RVER";
                environment["AWS_SECRET_ACCESS_KEY"] = "S3RVER";
                break;
            default:
                environment["Archive__Azure__Container"] = "results";
                environment["Archive__Azure__ConnectionString"] = azurite.ConnectionString;
                break;
        }

        return environment;
    }

    // What the store holds at a location the event named.
    private async Task<byte[]> Read(string store, string location)
    {
        switch (store)
        {
            case "FileSystem":
                return await File.ReadAllBytesAsync(new Uri(location).LocalPath);
            case "S3":
                var key = location[$"s3://{S3Server.Bucket}/".Length..];
                using (var client = S3Client())
                using (var got = await client.GetObjectAsync(S3Server.Bucket, key))
                using (var bytes = new MemoryStream())
                {
                    await got.ResponseStream.CopyToAsync(bytes);
                    return bytes.ToArray();
                }

            default:
                var blobName = string.Join('/', new Uri(location).AbsolutePath.Split('/').Skip(3).Select(Uri.UnescapeDataString));
                var content = await new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient("results").GetBlobClient(blobName).DownloadContentAsync();
                return content.Value.Content.ToArray();
        }
    }

    private async Task<int> S3ObjectsUnder(string jobId)
    {
        using var client = S3Client();
        return (await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = S3Server.Bucket, Prefix = $"{_prefix}/" })).S3Objects?
            .Count(o => o.Key.Contains($"/{jobId}/", StringComparison.Ordinal)) ?? 0;
    }

    [Theory]
    [InlineData("FileSystem")]
    [InlineData("S3")]
    [InlineData("AzureBlob")]
    public async Task Should_store_both_task_types_files_and_read_back_the_same_bytes(string store)
    {
        await using var files = await FakeFileHost.StartAsync();
        var environment = Archive(store);
        // The stores that can sign also hand out read URLs, fetched below without credentials.
        var signs = store != "FileSystem";
        if (signs) environment["Archive__ReadUrlLifetime"] = "00:10:00";
        await StartService(environment);
        using var anonymous = new HttpClient();
        var colour = $"colour-{store}";
        var cartoon = $"cartoon-{store}";
        Api.Script(colour, FakeResponse.Status("PROCESS_SUCCESS", imageList: [files.Url("a.png"), files.Url("b.png")]));
        Api.Script(cartoon, FakeResponse.Status("PROCESS_SUCCESS", resultUrl: files.Url("c.png")));

        await Listener.Send(new CheckTaskResult { JobId = colour, TaskType = TaskTypes.HdColourMigration });
        await Listener.Send(new CheckTaskResult { JobId = cartoon, TaskType = TaskTypes.GenerateCartoonizedImage });

        foreach (var (jobId, names) in new[] { (colour, new[] { "a.png", "b.png" }), (cartoon, new[] { "c.png" }) })
        {
            var archived = (await Listener.WaitFor<TaskResultsArchived>(jobId, EventTimeout)).Message;
            Assert.Equal(names.Length, archived.Files.Count);
            foreach (var (file, name) in archived.Files.Zip(names))
            {
                Assert.Equal(FakeFileHost.Content(name), await Read(store, file.Location));
                Assert.EndsWith($"/{jobId}/{Array.IndexOf(names, name) + 1}.png", Uri.UnescapeDataString(file.Location));
                if (!signs)
                {
                    Assert.Null(file.ReadUrl);
                    continue;
                }

                Assert.InRange(Assert.NotNull(file.ReadUrlExpiresAt), DateTimeOffset.UtcNow.AddMinutes(8), DateTimeOffset.UtcNow.AddMinutes(10));
                Assert.Equal(FakeFileHost.Content(name), await anonymous.GetByteArrayAsync(file.ReadUrl));
                // s3rver serves unsigned requests too: the URL must carry its signature and lifetime itself.
                var query = System.Web.HttpUtility.ParseQueryString(new Uri(file.ReadUrl!).Query);
                if (store == "S3") Assert.Equal((true, true), (int.Parse(query["X-Amz-Expires"]!) is >= 590 and <= 600, query["X-Amz-Signature"] is { Length: 64 }));
                else Assert.Equal(("r", true), (query["sp"], query["sig"] is { Length: > 0 }));
            }
        }

        Assert.Empty(Listener.Events<TaskResultsArchiveFailed>(colour));
    }

    [Fact]
    public async Task Should_wait_for_a_store_that_refuses_and_then_keep_one_copy()
    {
        // The store refuses every file until the bucket the service names exists.
        await using var files = await FakeFileHost.StartAsync();
        using var client = S3Client();
        var bucket = "late-" + Guid.NewGuid().ToString("N")[..8];
        var environment = Archive("S3");
        environment["Archive__S3__Bucket"] = bucket;
        var service = await StartService(environment);
        Api.Script("store-away", FakeResponse.Status("PROCESS_SUCCESS", imageList: [files.Url("kept.png")]));
        await Listener.Send(new CheckTaskResult { JobId = "store-away", TaskType = TaskTypes.HdColourMigration });

        await Listener.WaitFor<TaskSucceeded>("store-away", EventTimeout);
        var until = DateTime.UtcNow + EventTimeout;
        while (!service.Output.Contains("archive attempt 1 failed"))
        {
            Assert.True(DateTime.UtcNow < until, $"The first archive attempt never failed:\n{service.Output}");
            await Task.Delay(100);
        }

        await client.PutBucketAsync(bucket);

        var archived = (await Listener.WaitFor<TaskResultsArchived>("store-away", EventTimeout)).Message;
        Assert.Equal($"s3://{bucket}/{_prefix}/HD_COLOUR_MIGRATION/store-away/1.png", archived.Files.Single().Location);
        var stored = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket });
        Assert.Single(stored.S3Objects);
        Assert.Empty(Listener.Events<TaskResultsArchiveFailed>("store-away"));
    }

    [Fact]
    public async Task Should_lose_nothing_when_the_broker_restarts_mid_download()
    {
        const string jobId = "broker-restart-mid-download";
        await using var files = await FakeFileHost.StartAsync();
        var service = await StartService(Archive("FileSystem"));
        // 20 s at the first request: the broker is down before it ends, however long stopping it takes here.
        Api.Script(jobId, FakeResponse.Status("PROCESS_SUCCESS", imageList: [files.Url("slow-first-restart.png")]));
        await Listener.Send(new CheckTaskResult { JobId = jobId, TaskType = TaskTypes.HdColourMigration });

        await UntilRequested(files, "slow-first-restart.png", 1, service, "The download never started");

        await Broker.Stop();
        try
        {
            // The broker stays away a while: the attempt under way cannot publish its event nor acknowledge its command.
            await Task.Delay(TimeSpan.FromSeconds(3));
        }
        finally
        {
            await Broker.Resume();
        }

        var archived = (await Listener.WaitFor<TaskResultsArchived>(jobId, EventTimeout)).Message;
        var stored = new Uri(archived.Files.Single().Location).LocalPath;
        Assert.Equal(20 * 1024, new FileInfo(stored).Length);
        // The command came back after the broker did and the file was fetched again: the first attempt could not finish
        // its job (it may still be downloading, and then finds the file stored and stores nothing).
        await UntilRequested(files, "slow-first-restart.png", 2, service, "The command never came back after the broker did");

        // One copy (a copy on its way in sits beside it for a moment, as *.part).
        Assert.Equal([stored], Directory.GetFiles(Path.GetDirectoryName(stored)!).Where(path => !path.EndsWith(".part", StringComparison.Ordinal)));
        Assert.Empty(Listener.Events<TaskResultsArchiveFailed>(jobId));
        Assert.Equal(0u, await Broker.MessageCount("archive-task-results_error") ?? 0u);
    }

    [Fact]
    public async Task Should_lose_nothing_when_killed_mid_download()
    {
        await using var files = await FakeFileHost.StartAsync();
        var first = await StartService(Archive("S3"));
        Api.Script("killed-mid-download", FakeResponse.Status("PROCESS_SUCCESS", imageList: [files.Url("slow.png")]));
        await Listener.Send(new CheckTaskResult { JobId = "killed-mid-download", TaskType = TaskTypes.HdColourMigration });

        await UntilRequested(files, "slow.png", 1, first, "The download never started");

        await first.Kill();
        // The command was not acknowledged: the broker hands it to the next instance, which downloads it all again.
        await StartService(Archive("S3"));

        var archived = (await Listener.WaitFor<TaskResultsArchived>("killed-mid-download", EventTimeout)).Message;
        Assert.Equal(20 * 1024, archived.Files.Single().Size);
        Assert.Equal(1, await S3ObjectsUnder("killed-mid-download"));
        Assert.True(files.Requests.Count(request => request.Path == "/files/slow.png") >= 2);
    }

    // Until the file host has been asked for /files/{name} at least this many times (EventTimeout at most).
    private static async Task UntilRequested(FakeFileHost files, string name, int times, ServiceProcess service, string failure)
    {
        var until = DateTime.UtcNow + EventTimeout;
        while (files.Requests.Count(request => request.Path == $"/files/{name}") < times)
        {
            Assert.True(DateTime.UtcNow < until, $"{failure}:\n{service.Output}");
            await Task.Delay(50);
        }
    }
}
