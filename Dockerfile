# The Conduit node. Build: docker build -t conduit-node .   Run: see docs/deployment.md.
# No secret is baked in: certificates, the keys file and passwords reach the container at run time
# (docker-compose.yml mounts them from ./secrets and .env), and .dockerignore keeps them out of the build context.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/Conduit.Node -c Release -o /app

FROM mcr.microsoft.com/dotnet/runtime:10.0
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
EXPOSE 4053 5053
USER $APP_UID
# Healthy once the client port accepts a TCP connection (bash is in the image; there is no curl or wget). It dials
# CONDUIT__HOST:CONDUIT__PORT (or the deprecated CONDUIT_HOST:CONDUIT_PORT), so configure the port by environment
# (not --port or appsettings.json) and not as 0.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["bash", "-c", "exec 3<>\"/dev/tcp/${CONDUIT__HOST:-${CONDUIT_HOST:-127.0.0.1}}/${CONDUIT__PORT:-${CONDUIT_PORT:-4053}}\""]
ENTRYPOINT ["dotnet", "Conduit.Node.dll"]
