using System.ComponentModel.DataAnnotations;

namespace TaskResults.Service.Archive;

/// <summary>Where archived result files go.</summary>
public enum ArchiveStore
{
    /// <summary>Not archived: subscribers download the result URLs themselves within 24 hours.</summary>
    None,

    /// <summary>A directory (<c>Archive:Directory</c>).</summary>
    FileSystem,

    /// <summary>Any S3-compatible store (<c>Archive:S3:*</c>; credentials from the standard AWS variables or profile).</summary>
    S3,

    /// <summary>Azure Blob Storage (<c>Archive:Azure:*</c>).</summary>
    AzureBlob,
}

/// <summary>Archiving result files before they expire. Section <c>Archive</c>.</summary>
public sealed class ArchiveOptions : IValidatableObject
{
    public const string Section = "Archive";

    public ArchiveStore Store { get; set; } = ArchiveStore.None;

    /// <summary>The first part of every stored file's key: <c>{Prefix}/{taskType}/{jobId}/{n}{ext}</c>.</summary>
    public string Prefix { get; set; } = "task-results";

    /// <summary>For <see cref="ArchiveStore.FileSystem"/>: the directory files are stored under.</summary>
    public string? Directory { get; set; }

    /// <summary>A larger file is not stored (<c>TOO_LARGE</c>).</summary>
    public long MaxBytes { get; set; } = 100L * 1024 * 1024;

    /// <summary>
    /// Hosts result files may come from, at every hop of a redirect: a name (<c>ailabtools.com</c>) or every name
    /// under one (<c>*.ailabtools.com</c>). Anything else, e.g. 169.254.169.254 or localhost, is never fetched; nor is
    /// a listed name that resolves to an internal address (loopback, private, link-local) unless that address is listed.
    /// Empty (the default): <see cref="VendorHosts"/>. (Not a default value of the array: the configuration binder adds
    /// to an array's items, so a configured list could never leave the vendor's domains out.)
    /// </summary>
    public string[] AllowedHosts { get; set; } = [];

    /// <summary>The vendor's domains: where its result files are served from.</summary>
    public static readonly string[] VendorHosts = ["ailabtools.com", "*.ailabtools.com", "ailabapi.com", "*.ailabapi.com"];

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Time for one file's whole download.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Jobs archived at once by one instance: its own limit, so large downloads never hold up checks.</summary>
    public int ConcurrentArchives { get; set; } = 4;

    /// <summary>
    /// With S3 or Azure Blob: each archived file's event also carries a URL that reads it without credentials for this
    /// long from when it was stored (a pre-signed S3 URL, a blob SAS URL), from a minute to 7 days (S3's limit). Unset
    /// (the default): none.
    /// </summary>
    public TimeSpan? ReadUrlLifetime { get; set; }

    /// <summary>The longest <see cref="ReadUrlLifetime"/>: what S3 allows a pre-signed URL.</summary>
    public static readonly TimeSpan LongestReadUrlLifetime = TimeSpan.FromDays(7);

    /// <summary>The shortest <see cref="ReadUrlLifetime"/>: a URL a subscriber could hardly use before it expires is a mistake.</summary>
    public static readonly TimeSpan ShortestReadUrlLifetime = TimeSpan.FromMinutes(1);

    public S3StoreOptions S3 { get; set; } = new();

    public AzureStoreOptions Azure { get; set; } = new();

    public bool Enabled => Store != ArchiveStore.None;

    public override string ToString() => Store switch
    {
        ArchiveStore.None => "off",
        ArchiveStore.FileSystem => $"FileSystem {Directory}, MaxBytes={MaxBytes}, AllowedHosts={string.Join(' ', AllowedHosts)}",
        ArchiveStore.S3 => $"S3 bucket {S3.Bucket} at {S3.ServiceUrl ?? "AWS"}, MaxBytes={MaxBytes}, AllowedHosts={string.Join(' ', AllowedHosts)}{ReadUrls}",
        _ => $"AzureBlob container {Azure.Container}, MaxBytes={MaxBytes}, AllowedHosts={string.Join(' ', AllowedHosts)}{ReadUrls}",
    };

    private string ReadUrls => ReadUrlLifetime is { } lifetime ? $", ReadUrlLifetime={lifetime}" : "";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Store == ArchiveStore.FileSystem && string.IsNullOrWhiteSpace(Directory)) yield return new($"{Section}:Store=FileSystem needs {Section}:Directory.", [nameof(Directory)]);
        if (Store == ArchiveStore.S3 && string.IsNullOrWhiteSpace(S3.Bucket)) yield return new($"{Section}:Store=S3 needs {Section}:S3:Bucket.", [nameof(S3)]);
        if (Store == ArchiveStore.AzureBlob && (string.IsNullOrWhiteSpace(Azure.Container) || (string.IsNullOrWhiteSpace(Azure.ConnectionString) && Azure.ServiceUri is null)))
            yield return new($"{Section}:Store=AzureBlob needs {Section}:Azure:Container and a connection string or ServiceUri.", [nameof(Azure)]);
        if (string.IsNullOrWhiteSpace(Prefix) || Prefix.Contains("..", StringComparison.Ordinal) || Prefix.StartsWith('/'))
            yield return new($"{Section}:Prefix must be a relative key prefix without '..'.", [nameof(Prefix)]);
        if (MaxBytes < 1) yield return new($"{Section}:MaxBytes must be positive.", [nameof(MaxBytes)]);
        if (AllowedHosts.Any(host => string.IsNullOrWhiteSpace(host) || host.Contains('/') || host.Trim('*', '.').Length == 0))
            yield return new($"{Section}:AllowedHosts must name hosts (example.com, *.example.com).", [nameof(AllowedHosts)]);
        if (ConnectTimeout <= TimeSpan.Zero || Timeout <= TimeSpan.Zero) yield return new($"{Section}:ConnectTimeout and Timeout must be positive.", [nameof(Timeout)]);
        if (ReadUrlLifetime is { } lifetime)
        {
            if (lifetime < ShortestReadUrlLifetime || lifetime > LongestReadUrlLifetime)
                yield return new($"{Section}:ReadUrlLifetime must be from 1 minute (00:01:00) to 7 days (7.00:00:00).", [nameof(ReadUrlLifetime)]);
            if (Store is not (ArchiveStore.S3 or ArchiveStore.AzureBlob))
                yield return new($"{Section}:ReadUrlLifetime applies to the S3 and AzureBlob stores: {Section}:Store is {Store} (a FileSystem location is the file).", [nameof(ReadUrlLifetime)]);
            if (Store == ArchiveStore.AzureBlob && !AzureBlobResultStore.CanSignReadUrls(Azure.ConnectionString))
                yield return new($"{Section}:ReadUrlLifetime with AzureBlob needs {Section}:Azure:ConnectionString with the account key: a read URL is a SAS signed with it (not with a SAS connection string, nor with ServiceUri and DefaultAzureCredential).", [nameof(ReadUrlLifetime)]);
        }

        if (ConcurrentArchives is < 1 or > 64) yield return new($"{Section}:ConcurrentArchives must be from 1 to 64.", [nameof(ConcurrentArchives)]);
    }
}

public sealed class S3StoreOptions
{
    public string? Bucket { get; set; }

    /// <summary>An S3-compatible endpoint (MinIO, Ceph, R2, s3rver); unset: AWS.</summary>
    public string? ServiceUrl { get; set; }

    public string? Region { get; set; }

    /// <summary>bucket in the path (<c>host/bucket/key</c>), as most S3-compatible stores want.</summary>
    public bool ForcePathStyle { get; set; }
}

public sealed class AzureStoreOptions
{
    public string? Container { get; set; }

    /// <summary>A storage connection string (e.g. Azurite's); never logged.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Without a connection string: the account's blob endpoint, signed in with DefaultAzureCredential.</summary>
    public Uri? ServiceUri { get; set; }
}
