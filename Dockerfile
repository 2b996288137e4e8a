# The TaskResults service. Build from the repository root: docker build -t taskresults .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first, from the project files only, so the layer is reused while only code changes.
COPY Directory.Build.props Directory.Packages.props ./
COPY src/TaskResults.Contracts/TaskResults.Contracts.csproj src/TaskResults.Contracts/
COPY src/TaskResults.Service/TaskResults.Service.csproj src/TaskResults.Service/
RUN dotnet restore src/TaskResults.Service/TaskResults.Service.csproj
COPY src/ src/
RUN dotnet publish src/TaskResults.Service/TaskResults.Service.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app .
# The image's unprivileged user.
USER $APP_UID
# The standard knob (the base image sets it too; said here so the port is in plain sight). Set
# ASPNETCORE_HTTP_PORTS or ASPNETCORE_URLS at run time to move it: the HEALTHCHECK probe follows.
ENV ASPNETCORE_HTTP_PORTS=8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["dotnet", "TaskResults.Service.dll", "health"]
ENTRYPOINT ["dotnet", "TaskResults.Service.dll"]
