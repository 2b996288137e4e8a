using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Options;

namespace TaskResults.Service.Archive;

/// <summary>
/// Any S3-compatible store through AWSSDK.S3: AWS by default, or <c>Archive:S3:ServiceUrl</c> (MinIO, Ceph, R2).
/// Credentials and region come the SDK's standard way (AWS_* variables, profile, instance role). A file's SHA-256
/// is kept as its metadata <c>sha256</c>, so storing it again can be skipped.
/// </summary>
public sealed class S3ResultStore : IResultStore, IDisposable
{
    private const string Sha256Metadata = "sha256";

    private readonly S3StoreOptions _options;
    private readonly Lazy<AmazonS3Client> _client;

    public S3ResultStore(IOptions<ArchiveOptions> options)
    {
        _options = options.Value.S3;
        _client = new Lazy<AmazonS3Client>(() =>
        {
            var config = new AmazonS3Config { ForcePathStyle = _options.ForcePathStyle };
            if (_options.ServiceUrl is { } url)
            {
                config.ServiceURL = url;
                // S3-compatible stores often lack the newer checksums AWS asks for by default: only where an operation requires one.
                config.RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED;
                config.ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED;
            }

            if (_options.Region is { } region) config.AuthenticationRegion = region;
            if (_options.Region is { } named && _options.ServiceUrl is null) config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(named);
            return new AmazonS3Client(config);
        });
    }

    public async Task<StoredFile?> FindAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var head = await _client.Value.GetObjectMetadataAsync(_options.Bucket, key, cancellationToken);
            return new StoredFile(Location(key), head.ContentLength, head.Metadata[Sha256Metadata]);
        }
        catch (AmazonS3Exception exception) when (exception.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw new StoreUnavailableException($"The S3 store cannot be asked about {key}: {exception.Message}", exception);
        }
    }

    public async Task<string> PutAsync(string key, string file, long size, string sha256, string contentType, CancellationToken cancellationToken)
    {
        try
        {
            // aws-chunked bodies are AWS's own: some S3-compatible stores keep the chunk framing as the content (s3rver does).
            var put = new PutObjectRequest { BucketName = _options.Bucket, Key = key, FilePath = file, ContentType = contentType, UseChunkEncoding = _options.ServiceUrl is null };
            put.Metadata[Sha256Metadata] = sha256;
            await _client.Value.PutObjectAsync(put, cancellationToken);
            return Location(key);
        }
        catch (Exception exception) when (IsUnavailable(exception) || exception is IOException)
        {
            throw new StoreUnavailableException($"The S3 store refused {key}: {exception.Message}", exception);
        }
    }

    public async Task<ReadUrl?> ReadUrlAsync(string key, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        // SigV4 allows 7 days; past them the SDK quietly signs the older SigV2 instead. Its clock and ours differ a little.
        var latest = DateTimeOffset.UtcNow + ArchiveOptions.LongestReadUrlLifetime - SigningMargin;
        var until = expiresAt < latest ? expiresAt : latest;
        try
        {
            // Signed here with the store's credentials, no call to the store. The SDK signs https URLs unless told: an
            // endpoint on http (a MinIO in a private network, s3rver) gets http ones.
            var url = await _client.Value.GetPreSignedURLAsync(new GetPreSignedUrlRequest
            {
                BucketName = _options.Bucket,
                Key = key,
                Verb = HttpVerb.GET,
                Expires = until.UtcDateTime,
                Protocol = _options.ServiceUrl is { } endpoint && endpoint.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? Protocol.HTTP : Protocol.HTTPS,
            });
            return new ReadUrl(url, until);
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            // No credentials to sign with (yet): an instance role or STS that does not answer, say.
            throw new StoreUnavailableException($"The S3 store cannot sign a read URL for {key}: {exception.Message}", exception);
        }
    }

    private static readonly TimeSpan SigningMargin = TimeSpan.FromMinutes(5);

    // The store (or the credentials behind it) did not answer or refused: the archive waits and tries again.
    private static bool IsUnavailable(Exception exception) => exception is AmazonServiceException or AmazonClientException or HttpRequestException;

    private string Location(string key) => $"s3://{_options.Bucket}/{key}";

    public void Dispose()
    {
        if (_client.IsValueCreated) _client.Value.Dispose();
    }
}
