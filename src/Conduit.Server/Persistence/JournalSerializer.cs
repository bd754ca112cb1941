using Akka.Actor;
using Conduit.Protocol.Serialization;

namespace Conduit.Server.Persistence;

/// <summary>Serializer for journal events and snapshots (<see cref="IConduitEvent"/>). Manifests are stored with every row: never change one.</summary>
public sealed class JournalSerializer(ExtendedActorSystem system) : MemoryPackSerializerBase(system, Registrations)
{
    public const int SerializerId = 4102;
    public override int Identifier => SerializerId;

    public static readonly (string, Type)[] Registrations =
    [
        ("batch.v1", typeof(PartitionBatch)),
        ("snapshot.v1", typeof(PartitionSnapshot)),
        ("schedule.saved.v1", typeof(Scheduling.ScheduleSaved)),
        ("schedule.pause.v1", typeof(Scheduling.SchedulePauseChanged)),
        ("schedule.ran.v1", typeof(Scheduling.ScheduleRan)),
        ("schedule.skipped.v1", typeof(Scheduling.ScheduleSkipped)),
        ("schedule.removed.v1", typeof(Scheduling.ScheduleRemoved)),
        ("schedule.snapshot.v1", typeof(Scheduling.ScheduleSnapshot)),
        ("schedule.run-started.v1", typeof(Scheduling.ScheduleRunStarted)),
    ];
}
