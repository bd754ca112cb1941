# The Conduit node. Build: docker build -t conduit-node .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/Conduit.Node -c Release -o /app

FROM mcr.microsoft.com/dotnet/runtime:10.0
WORKDIR /app
COPY --from=build /app .
EXPOSE 4053
ENTRYPOINT ["dotnet", "Conduit.Node.dll"]
