using Azure;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Sas;
using Microsoft.Extensions.Options;

namespace TaskResults.Service.Archive;

/// <summary>
/// Azure Blob Storage through Azure.Storage.Blobs: a connection string (Azurite's, say), or the account's endpoint
/// with DefaultAzureCredential. A file's SHA-256 is kept as its metadata <c>sha256</c>. The container is created
/// when missing.
/// </summary>
public sealed class AzureBlobResultStore(IOptions<ArchiveOptions> options) : IResultStore
{
    private const string Sha256Metadata = "sha256";

    private readonly AzureStoreOptions _options = options.Value.Azure;
    private BlobContainerClient? _container;

    public async Task<StoredFile?> FindAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var blob = (await ContainerAsync(cancellationToken)).GetBlobClient(key);
            var properties = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
            return new StoredFile(blob.Uri.AbsoluteUri, properties.ContentLength, properties.Metadata.TryGetValue(Sha256Metadata, out var sha) ? sha : null);
        }
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
            return null;
        }
        catch (Exception exception) when (exception is RequestFailedException or HttpRequestException or AuthenticationFailedException)
        {
            throw new StoreUnavailableException($"The blob store cannot be asked about {key}: {exception.Message}", exception);
        }
    }

    public async Task<string> PutAsync(string key, string file, long size, string sha256, string contentType, CancellationToken cancellationToken)
    {
        try
        {
            var blob = (await ContainerAsync(cancellationToken)).GetBlobClient(key);
            await blob.UploadAsync(file, new BlobUploadOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = contentType },
                Metadata = new Dictionary<string, string> { [Sha256Metadata] = sha256 },
            }, cancellationToken);
            return blob.Uri.AbsoluteUri;
        }
        catch (Exception exception) when (exception is RequestFailedException or HttpRequestException or AuthenticationFailedException or IOException)
        {
            throw new StoreUnavailableException($"The blob store refused {key}: {exception.Message}", exception);
        }
    }

    public async Task<ReadUrl?> ReadUrlAsync(string key, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        try
        {
            // A service SAS, signed with the account key of the connection string (ArchiveOptions refuses a read URL without one).
            var blob = (await ContainerAsync(cancellationToken)).GetBlobClient(key);
            return new ReadUrl(blob.GenerateSasUri(BlobSasPermissions.Read, expiresAt).AbsoluteUri, expiresAt);
        }
        catch (Exception exception) when (exception is RequestFailedException or HttpRequestException or AuthenticationFailedException)
        {
            throw new StoreUnavailableException($"The blob store cannot sign a read URL for {key}: {exception.Message}", exception);
        }
    }

    /// <summary>Whether <paramref name="connectionString"/> holds the account key a read URL is signed with (no call to the store).</summary>
    public static bool CanSignReadUrls(string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString)) return false;
        try
        {
            return new BlobServiceClient(connectionString).CanGenerateAccountSasUri;
        }
        catch (Exception exception) when (exception is FormatException or ArgumentException)
        {
            return false;
        }
    }

    // Created once it answers; until then every call tries again.
    private async Task<BlobContainerClient> ContainerAsync(CancellationToken cancellationToken)
    {
        if (_container is { } known) return known;
        var service = _options.ConnectionString is { Length: > 0 } connection
            ? new BlobServiceClient(connection)
            : new BlobServiceClient(_options.ServiceUri, new DefaultAzureCredential());
        var container = service.GetBlobContainerClient(_options.Container);
        await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        return _container = container;
    }
}
