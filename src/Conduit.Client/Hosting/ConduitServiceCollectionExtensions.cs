using Conduit.Client.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conduit.Client.Hosting;

/// <summary>Microsoft.Extensions.DependencyInjection / Hosting integration.</summary>
public static class ConduitServiceCollectionExtensions
{
    /// <summary>Registers one shared <see cref="ConduitClient"/> (a singleton, disposed with the container).</summary>
    public static IServiceCollection AddConduitClient(this IServiceCollection services, Action<ConduitClientOptions>? configure = null)
    {
        var options = new ConduitClientOptions();
        configure?.Invoke(options);
        return services.AddConduitClient(options);
    }

    /// <summary>
    /// Registers one shared <see cref="ConduitClient"/> with options bound from <paramref name="section"/>
    /// (<c>services.AddConduitClient(configuration.GetSection("Conduit:Client"))</c>; see <see cref="ConduitConfiguration"/>),
    /// then <paramref name="configure"/>. Bad configuration throws here, naming the key.
    /// </summary>
    public static IServiceCollection AddConduitClient(this IServiceCollection services, IConfiguration section, Action<ConduitClientOptions>? configure = null)
    {
        var options = ConduitConfiguration.ClientOptions(section);
        configure?.Invoke(options);
        return services.AddConduitClient(options);
    }

    /// <summary>Runs a worker on <paramref name="queue"/> with options bound from <paramref name="section"/> (<see cref="ConduitConfiguration"/>).</summary>
    public static IServiceCollection AddConduitWorker<THandler>(this IServiceCollection services, string queue, IConfiguration section)
        where THandler : class, IConduitTaskHandler =>
        services.AddConduitWorker<THandler>(queue, ConduitConfiguration.WorkerOptions(section));

    /// <summary>Registers one shared <see cref="ConduitClient"/> with <paramref name="options"/>. A second call changes nothing.</summary>
    public static IServiceCollection AddConduitClient(this IServiceCollection services, ConduitClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        services.TryAddSingleton(_ => new ConduitClient(options));
        return services;
    }

    /// <summary>
    /// Runs a worker on <paramref name="queue"/> as a hosted service: <typeparamref name="THandler"/> is resolved from a
    /// new scope for each task (registered as scoped unless already registered). Needs <see cref="AddConduitClient(IServiceCollection, Action{ConduitClientOptions}?)"/>.
    /// Call it once per queue (or several times for separate pools on one queue).
    /// </summary>
    public static IServiceCollection AddConduitWorker<THandler>(this IServiceCollection services, string queue, ConduitWorkerOptions? options = null)
        where THandler : class, IConduitTaskHandler
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(queue);
        options ??= new ConduitWorkerOptions();
        options.Validate();
        services.TryAddScoped<THandler>();
        services.AddSingleton<IHostedService>(sp => new ConduitWorkerService<THandler>(
            sp.GetRequiredService<ConduitClient>(), queue, options,
            sp.GetRequiredService<IServiceScopeFactory>(), sp.GetService<ILoggerFactory>()));
        return services;
    }
}
