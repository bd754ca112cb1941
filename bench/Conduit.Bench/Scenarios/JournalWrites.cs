using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Conduit.Server.Hosting;
using static Conduit.Bench.Report;

namespace Conduit.Bench.Scenarios;

public sealed partial class Scenarios
{
    // ---- 8. one journal write ---------------------------------------------------------------------------------

    /// <summary>Writes per setting and round, after 500 that warm its connection pool and are not counted.</summary>
    private int JournalWrites => C.Quick ? 2_000 : 3_000;
    private const int JournalRounds = 4;

    /// <summary>
    /// What one Akka.Persistence.Sql write costs, without Conduit around it: in this bench process, one persistent actor
    /// persists <see cref="JournalWrites"/> events of the payload size one after the other (each waits for the last) on a
    /// database of its own, with the plugin and Npgsql settings the node ships (<see cref="ConduitHostingExtensions.ConnectionHocon"/>,
    /// <see cref="PostgresDefaults"/>), with those but no auto-preparation, and with the plugin's defaults, in turns. The
    /// node's own costs per journal write (trickle, single enqueue) are this plus its requests; this row shows the part
    /// that belongs to the plugin and its settings.
    /// </summary>
    public async Task JournalWritesAsync()
    {
        R.Section(8);
        R.Line("## 8. One journal write");
        R.Line($"Akka.Persistence.Sql alone, in the bench process (not the node): one persistent actor persists {JournalWrites:N0} events of " +
               $"{C.PayloadBytes} B one after the other, each after the last is durable, on a database of its own; with the plugin settings the node " +
               "ships (`use-clone-connection = false`, `ConduitHostingExtensions.ConnectionHocon`, and Npgsql's `Max Auto Prepare` from " +
               "`PostgresDefaults`), with those but no auto-preparation, and with the plugin's defaults (it clones a connection for every " +
               $"call; no auto-preparation), in {JournalRounds} rounds, the order swapped every round, after 3,000 unmeasured writes with " +
               "each. Client CPU and allocations are the bench process's (its idle client systems included); the node is idle meanwhile.");
        R.Line();
        await B.Probe.CreateDatabasesAsync(JournalDatabase);
        // The bench's connection string already says `No Reset On Close`; the node adds `Max Auto Prepare` (PostgresDefaults).
        var given = C.ConduitConnectionStringFor(JournalDatabase);
        var settings = new (string Name, string Hocon, string ConnectionString)[]
        {
            ("as shipped", ConduitHostingExtensions.ConnectionHocon, StorageOptions.Postgres(given).ConnectionString),
            ("no auto-prepare", ConduitHostingExtensions.ConnectionHocon, given + ";Max Auto Prepare=0"),
            ("plugin defaults", "", given + ";Max Auto Prepare=0"),
        };
        // Every setting's code paths through the JIT first (a cold first round cost half again as much), unmeasured.
        foreach (var (_, hocon, connectionString) in settings)
            await using (await JournalActor.StartAsync(connectionString, hocon, C.PayloadBytes, warmUp: 3_000)) { }
        var runs = new List<Measured>();
        var rows = new List<string[]>();
        for (var round = 1; round <= JournalRounds; round++)
        {
            // A B C, C B A, ...: no setting always runs first.
            foreach (var (name, hocon, connectionString) in round % 2 == 1 ? settings : settings.Reverse())
            {
                await using var journal = await JournalActor.StartAsync(connectionString, hocon, C.PayloadBytes, warmUp: 500);
                var allocated = GC.GetTotalAllocatedBytes(precise: true);
                var m = await b.Measure($"journal writes, {name} ({round})", async () =>
                {
                    await journal.WriteAsync(JournalWrites);
                    return JournalWrites;
                });
                allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
                runs.Add(m);
                rows.Add([$"{name} ({round})", F(m.Rate), F(m.Cpu.Client * 10_000 / m.Rate), F(m.Cpu.Postgres * 10_000 / m.Rate),
                    F(allocated / 1024.0 / JournalWrites), F(m.Seconds * 1_000_000 / JournalWrites)]);
            }
        }
        R.Table(["settings (round)", "writes/s", "bench CPU µs/write", "PG CPU µs/write", "KiB allocated/write", "µs/write (wall)"], rows);
        R.Profile(runs);
    }

    private const string JournalDatabase = "conduit_journal";

    /// <summary>An ActorSystem with the SQL journal on PostgreSQL and one persistent actor that writes on request.</summary>
    private sealed class JournalActor : IAsyncDisposable
    {
        private readonly ActorSystem _system;
        private readonly IActorRef _writer;

        private JournalActor(ActorSystem system, IActorRef writer) => (_system, _writer) = (system, writer);

        public static async Task<JournalActor> StartAsync(string connectionString, string hocon, int payloadBytes, int warmUp)
        {
            var plugin = $$"""
                akka.loglevel = WARNING
                akka.persistence.journal.plugin = "akka.persistence.journal.sql"
                akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.sql"
                akka.persistence.journal.sql { connection-string = "{{connectionString}}", provider-name = "PostgreSQL.15", auto-initialize = true }
                akka.persistence.snapshot-store.sql { connection-string = "{{connectionString}}", provider-name = "PostgreSQL.15", auto-initialize = true }
                """;
            var config = ConfigurationFactory.ParseString(hocon)
                .WithFallback(ConfigurationFactory.ParseString(plugin))
                .WithFallback(Akka.Persistence.Sql.SqlPersistence.DefaultConfiguration);
            var system = ActorSystem.Create("journal-writes", config);
            var writer = system.ActorOf(Props.Create(() => new Writer("journal-writes-" + Guid.NewGuid().ToString("N"), new byte[payloadBytes])));
            var journal = new JournalActor(system, writer);
            await journal.WriteAsync(warmUp);
            return journal;
        }

        public Task WriteAsync(int count) => _writer.Ask<int>(count, TimeSpan.FromMinutes(5));

        public async ValueTask DisposeAsync() => await _system.Terminate();

        private sealed class Writer : ReceivePersistentActor
        {
            private int _left;
            private IActorRef _replyTo = ActorRefs.Nobody;

            public override string PersistenceId { get; }

            public Writer(string persistenceId, byte[] payload)
            {
                PersistenceId = persistenceId;
                Recover<byte[]>(_ => { });
                Command<int>(count =>
                {
                    _left = count;
                    _replyTo = Sender;
                    Next(payload);
                });
            }

            private void Next(byte[] payload)
            {
                if (_left-- == 0) { _replyTo.Tell(0); return; }
                Persist(payload, _ => Next(payload));
            }
        }
    }
}
