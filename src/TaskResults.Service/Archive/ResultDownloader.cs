using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using TaskResults.Contracts;

namespace TaskResults.Service.Archive;

/// <summary>What became of one download.</summary>
public abstract record Download
{
    private Download()
    {
    }

    /// <summary>The whole file is in the local copy.</summary>
    public sealed record Done(long Size, string Sha256, string ContentType) : Download;

    /// <summary>It will never be stored (<see cref="ArchiveFailureReasons"/>).</summary>
    public sealed record Refused(string Reason, string Details) : Download;

    /// <summary>The host did not answer well this time: try again later.</summary>
    public sealed record Failed(string Details) : Download;
}

/// <summary>
/// Fetches a result file into a local copy, streaming (never the whole file in memory), counting and hashing as it
/// goes. Only from <c>Archive:AllowedHosts</c>, checked again at every redirect (followed here, at most five); no
/// header of the API's goes with it, the API key least of all.
/// </summary>
public sealed class ResultDownloader(HttpClient http, IOptions<ArchiveOptions> options)
{
    private const int MaxRedirects = 5;

    private readonly ArchiveOptions _options = options.Value;

    /// <summary>
    /// The handler downloads go through: no redirect followed behind the allow list's back, no cookies, and no
    /// connection to an internal address (loopback, private, link-local, shared) unless that very address is on the
    /// allow list: a listed name that resolves there (a dangling subdomain, a rebinding DNS) is refused.
    /// </summary>
    public static SocketsHttpHandler CreateHandler(ArchiveOptions options) => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        ConnectTimeout = options.ConnectTimeout,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectCallback = async (context, cancellationToken) =>
        {
            var host = context.DnsEndPoint.Host;
            var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
            var usable = addresses.Where(address => !IsInternal(address) || options.AllowedHosts.Contains(Unmapped(address).ToString())).ToArray();
            if (usable.Length == 0) throw new InternalAddressException(host);
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(usable, context.DnsEndPoint.Port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    /// <summary>A host that resolves only to internal addresses not on the allow list.</summary>
    public sealed class InternalAddressException(string host) : IOException($"{host} resolves to an internal address that is not in {ArchiveOptions.Section}:AllowedHosts.");

    private static IPAddress Unmapped(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    public static bool IsInternal(IPAddress address)
    {
        address = Unmapped(address);
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)) return true;
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal || address.IsIPv6Multicast;
        var b = address.GetAddressBytes();
        return b[0] == 10 || b[0] == 0 || (b[0] == 172 && b[1] is >= 16 and <= 31) || (b[0] == 192 && b[1] == 168) || (b[0] == 169 && b[1] == 254)
            || (b[0] == 100 && b[1] is >= 64 and <= 127) || b[0] >= 224;
    }

    /// <summary>Downloads <paramref name="url"/> into the file <paramref name="copy"/>; <paramref name="progress"/> hears the bytes so far and the length the host announced.</summary>
    public async Task<Download> DownloadAsync(string url, string copy, CancellationToken cancellationToken, Action<long, long?>? progress = null)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var address) || address.Scheme is not ("https" or "http"))
            return new Download.Refused(ArchiveFailureReasons.NotAllowed, "Not an http(s) URL.");

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.Timeout);
        try
        {
            for (var hop = 0; hop <= MaxRedirects; hop++)
            {
                if (!IsAllowed(address.IdnHost))
                    return new Download.Refused(ArchiveFailureReasons.NotAllowed, $"{(hop == 0 ? "The URL" : "A redirect")} points to {address.IdnHost}, which is not in {ArchiveOptions.Section}:AllowedHosts.");

                using var response = await http.GetAsync(address, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                var status = (int)response.StatusCode;
                if (status is >= 300 and < 400 && response.Headers.Location is { } location)
                {
                    address = new Uri(address, location);
                    if (address.Scheme is not ("https" or "http")) return new Download.Refused(ArchiveFailureReasons.NotAllowed, "A redirect leaves http(s).");
                    continue;
                }

                if (response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || status >= 500)
                    return new Download.Failed($"The file host answered {status}.");
                if (!response.IsSuccessStatusCode) return new Download.Refused(ArchiveFailureReasons.NotFound, $"The file host answered {status}.");
                if (response.Content.Headers.ContentLength > _options.MaxBytes)
                    return new Download.Refused(ArchiveFailureReasons.TooLarge, $"{response.Content.Headers.ContentLength} bytes, more than {ArchiveOptions.Section}:MaxBytes ({_options.MaxBytes}).");

                return await CopyAsync(response, copy, progress, timeout.Token);
            }

            return new Download.Refused(ArchiveFailureReasons.NotFound, $"More than {MaxRedirects} redirects.");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new Download.Failed($"Not downloaded within {ArchiveOptions.Section}:Timeout ({_options.Timeout}).");
        }
        catch (HttpRequestException exception) when (exception.InnerException is InternalAddressException refused)
        {
            return new Download.Refused(ArchiveFailureReasons.NotAllowed, refused.Message);
        }
        catch (HttpRequestException exception)
        {
            return new Download.Failed($"The file host could not be reached: {exception.Message}");
        }
        catch (IOException exception)
        {
            return new Download.Failed($"The download broke off: {exception.Message}");
        }
    }

    // A name on the list, or under a *.name on it; an address literal only when it is listed itself.
    public bool IsAllowed(string host) => _options.AllowedHosts.Any(allowed => allowed.StartsWith("*.", StringComparison.Ordinal)
        ? host.EndsWith(allowed[1..], StringComparison.OrdinalIgnoreCase) && !IPAddress.TryParse(host, out _)
        : string.Equals(host, allowed, StringComparison.OrdinalIgnoreCase));

    private async Task<Download> CopyAsync(HttpResponseMessage response, string copy, Action<long, long?>? progress, CancellationToken cancellationToken)
    {
        var length = response.Content.Headers.ContentLength;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(81920);
        long size = 0;
        try
        {
            await using var source = await response.Content.ReadAsStreamAsync(cancellationToken);
            // A new file (CreateNew: FileMode.Create truncates after opening, which makes ext4 flush it to disk on
            // close), written synchronously: a write into the page cache is quicker than the thread-pool hop .NET makes
            // of every asynchronous file write on Linux.
            await using var target = new FileStream(copy, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0, FileOptions.None);
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
            {
                size += read;
                // Content-Length may be missing or wrong: the cap holds for what actually comes.
                if (size > _options.MaxBytes) return new Download.Refused(ArchiveFailureReasons.TooLarge, $"More than {ArchiveOptions.Section}:MaxBytes ({_options.MaxBytes}) bytes.");
                sha.AppendData(buffer, 0, read);
                target.Write(buffer, 0, read);
                progress?.Invoke(size, length);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        var type = response.Content.Headers.ContentType?.MediaType ?? "application/octet-stream";
        return new Download.Done(size, Convert.ToHexStringLower(sha.GetHashAndReset()), type);
    }
}
