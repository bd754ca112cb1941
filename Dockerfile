# The Conduit node. Build: docker build -t conduit-node .   Run: see docs/deployment.md.
# No secret is baked in: certificates, the keys file and passwords reach the container at run time
# (docker-compose.yml mounts them from ./secrets and .env), and .dockerignore keeps them out of the build context.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/Conduit.Node -c Release -o /app

# ASP.NET Core runtime: the node serves its health probes over HTTP (Kestrel).
FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
# The program stays owned by root: the node cannot change its own code.
COPY --from=build /app .
# The SQLite data directory (unused on PostgreSQL), the only place the node writes, owned by the image's non-root
# user `app` (UID $APP_UID = 1654). Mount a volume here to keep a single node's data: a new named volume takes this
# ownership; a bind-mounted host directory must be writable by UID 1654.
RUN mkdir /data && chown "$APP_UID:$APP_UID" /data && chmod 0700 /data
ENV CONDUIT__DATA=/data
# 4053: clients and the CLI (publish this one, on loopback or a private network).
# 5053: the cluster (node to node only; never publish it).
# 8053: HTTP, /healthz, /readyz and /metrics (on 127.0.0.1 inside the container unless CONDUIT__HTTP__HOST says otherwise).
EXPOSE 4053 5053 8053
USER $APP_UID
# Healthy once /readyz answers 200: an Up cluster member whose shard coordinator answers and, on task-service nodes,
# whose database answers (bash is in the image; there is no curl or wget). Configure the HTTP port by environment
# (CONDUIT__HTTP__PORT, or the deprecated CONDUIT_HTTP_PORT; not --http-port or appsettings.json) and not as 0, or the
# check dials the wrong port.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["bash", "-c", "exec 3<>\"/dev/tcp/127.0.0.1/${CONDUIT__HTTP__PORT:-${CONDUIT_HTTP_PORT:-8053}}\" && printf 'GET /readyz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["dotnet", "Conduit.Node.dll"]
