using Conduit.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Conduit.Server.Metrics;

/// <summary>
/// Exports the node's metrics through OpenTelemetry: the Prometheus scrape endpoint <see cref="ScrapePath"/> on the HTTP
/// listener, and OTLP when <see cref="MetricsOptions.OtlpEndpoint"/> is set. Without either nothing listens to the
/// meter, and the node pays only for the partitions' plain counts.
/// </summary>
public static class MetricsHosting
{
    public const string ScrapePath = "/metrics";
    /// <summary>.NET's built-in runtime meter (GC, thread pool, JIT, CPU, memory), .NET 9 and later.</summary>
    public const string RuntimeMeterName = "System.Runtime";
    public const string ServiceName = "conduit-node";

    /// <summary>Registers <paramref name="metrics"/> and, when something exports them, OpenTelemetry's meter provider.</summary>
    /// <param name="prometheus">The node has an HTTP listener, where <see cref="MapConduitMetrics"/> serves the scrape.</param>
    public static IServiceCollection AddConduitMetrics(this IServiceCollection services, NodeSettings settings, ServerMetrics metrics, bool prometheus)
    {
        services.AddSingleton(metrics);
        var options = settings.Metrics;
        if (!prometheus && options.OtlpEndpoint is null) return services;
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName, serviceVersion: typeof(MetricsHosting).Assembly.GetName().Version?.ToString(3),
                serviceInstanceId: $"{settings.Host}:{settings.ClusterPort}"))
            .WithMetrics(meters =>
            {
                meters.AddMeter(MetricNames.MeterName);
                if (options.RuntimeMetrics) meters.AddMeter(RuntimeMeterName);
                if (prometheus) meters.AddPrometheusExporter();
                if (options.OtlpEndpoint is { } endpoint)
                {
                    meters.AddOtlpExporter((exporter, reader) =>
                    {
                        exporter.Endpoint = endpoint;
                        exporter.Protocol = OtlpExportProtocol.Grpc;
                        reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = options.OtlpExportIntervalMs;
                    });
                }
            });
        return services;
    }

    /// <summary><c>/metrics</c>: the Prometheus text format (OpenMetrics when the scraper asks for it).</summary>
    public static IEndpointRouteBuilder MapConduitMetrics(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPrometheusScrapingEndpoint(ScrapePath);
        return endpoints;
    }
}
