using Conduit.Protocol;
using Conduit.Server.Security;
using Conduit.Testing;
using Xunit;

namespace Conduit.Server.Tests.Security;

/// <summary>The role table, over every member of the <see cref="IClientRequest"/> union (found by reflection).</summary>
public sealed class PermissionsTests
{
    private const Role P = Role.Producer, W = Role.Worker, O = Role.Operator;

    /// <summary>The table as issue #9 states it, written out independently of <see cref="Permissions"/>.</summary>
    internal static readonly Dictionary<Type, (Role Allowed, bool ClusterWide)> Expected = new()
    {
        [typeof(Enqueue)] = (P | O, false),
        [typeof(EnqueueBatch)] = (P | O, false),
        [typeof(GetTask)] = (P | W | O, false),
        [typeof(Poll)] = (W | O, false),
        [typeof(CancelPoll)] = (W | O, false),
        [typeof(Heartbeat)] = (W | O, false),
        [typeof(Complete)] = (W | O, false),
        [typeof(Fail)] = (W | O, false),
        [typeof(ReleaseTasks)] = (W | O, false),
        [typeof(CancelTask)] = (O, false),
        [typeof(GetQueueStats)] = (O, false),
        [typeof(PauseQueue)] = (O, false),
        [typeof(ResumeQueue)] = (O, false),
        [typeof(PurgeQueue)] = (O, false),
        [typeof(SetQueueLimits)] = (O, false),
        [typeof(ListDeadLetters)] = (O, false),
        [typeof(ListTasks)] = (O, false),
        [typeof(RequeueDeadLetters)] = (O, false),
        [typeof(OperatorRequest)] = (O, false),
        [typeof(GetClusterState)] = (O, true),
        [typeof(ChangeMembership)] = (O, true),
        [typeof(GetShardingStats)] = (O, true),
        [typeof(GetLocalPartitions)] = (O, true),
        [typeof(GetLocalSchedules)] = (O, true),
        [typeof(ListQueues)] = (O, true),
        [typeof(PutSchedule)] = (O, false),
        [typeof(GetSchedule)] = (O, false),
        [typeof(PauseSchedule)] = (O, false),
        [typeof(ResumeSchedule)] = (O, false),
        [typeof(DeleteSchedule)] = (O, false),
        [typeof(TriggerSchedule)] = (O, false),
        [typeof(ListSchedules)] = (O, false),
    };

    public static TheoryData<string, Role, bool> Cases()
    {
        var data = new TheoryData<string, Role, bool>();
        foreach (var type in ClientRequests.UnionTypes)
        foreach (var role in new[] { P, W, O })
        foreach (var inNamespace in new[] { true, false })
            data.Add(type.Name, role, inNamespace);
        return data;
    }

    [Fact(DisplayName = "every client request type has a rule, and the expected table covers every client request type")]
    public void EveryTypeHasARule()
    {
        Assert.NotEmpty(ClientRequests.UnionTypes);
        foreach (var type in ClientRequests.UnionTypes)
        {
            Assert.True(Expected.ContainsKey(type), $"{type.Name}: add it to PermissionsTests.Expected");
            Assert.True(Permissions.RuleFor(type) is not null, $"{type.Name}: add a rule to Permissions.Rules");
            Assert.Equal(Expected[type].ClusterWide, Permissions.RuleFor(type)!.ClusterWide);
            Assert.Equal(Expected[type].ClusterWide, RequestNamespace.IsClusterWide(ClientRequests.Samples()[type]));
        }
    }

    [Theory(DisplayName = "each role can make exactly its requests in its namespaces and is refused with Unauthorized elsewhere")]
    [MemberData(nameof(Cases))]
    public void Table(string typeName, Role role, bool inNamespace)
    {
        var (type, request) = ClientRequests.Samples("billing").Single(s => s.Key.Name == typeName);
        var expected = Expected[type];
        var ns = RequestNamespace.Of(request);
        if (!expected.ClusterWide) Assert.NotNull(ns);

        // "In the namespace": the request's own namespace, or every namespace for a cluster-wide request.
        IReadOnlySet<string>? namespaces = expected.ClusterWide
            ? inNamespace ? null : new HashSet<string> { "default", "billing" }
            : new HashSet<string> { inNamespace ? ns! : "elsewhere" };
        var who = new Identity("alice", role, namespaces);

        var refusal = Permissions.Check(who, request, ns);

        var allowed = expected.Allowed.HasFlag(role) && inNamespace;
        if (allowed)
        {
            Assert.Null(refusal);
            return;
        }
        Assert.NotNull(refusal);
        Assert.Equal(ErrorCode.Unauthorized, refusal.Code);
        Assert.Contains("key 'alice'", refusal.Message);
        Assert.Contains("role", refusal.Message);
        if (!expected.ClusterWide) Assert.Contains($"namespace '{ns}'", refusal.Message);
        else if (expected.Allowed.HasFlag(role)) Assert.Contains("every namespace", refusal.Message);
    }

    [Fact(DisplayName = "the anonymous identity (auth off) may make every request, and a key without roles none")]
    public void AnonymousAndNobody()
    {
        var nobody = new Identity("nobody", Role.None, null);
        foreach (var request in ClientRequests.Samples("billing").Values)
        {
            Assert.Null(Permissions.Check(Identity.Anonymous, request, RequestNamespace.Of(request)));
            Assert.Equal(ErrorCode.Unauthorized, Permissions.Check(nobody, request, RequestNamespace.Of(request))?.Code);
        }
    }

    [Fact(DisplayName = "an operator request needs the operator role in the namespace of the request it carries")]
    public void OperatorRequestNamespace()
    {
        var request = new OperatorRequest(new CancelTask(ClientRequests.TaskIdIn("billing")), new Requester("ops", "box"));
        Assert.Equal("billing", RequestNamespace.Of(request));
        Assert.Null(Permissions.Check(new Identity("ops", O, new HashSet<string> { "billing" }), request, "billing"));
        var refusal = Permissions.Check(new Identity("ops", O, new HashSet<string> { "default" }), request, "billing");
        Assert.Contains("cancel a task", refusal?.Message);
        Assert.Contains("namespace 'billing'", refusal?.Message);
        Assert.NotNull(Permissions.Check(new Identity("w", W, null), request, "billing"));
    }

    [Fact(DisplayName = "a request whose ids name no single namespace needs the role in every namespace")]
    public void UnknownNamespace()
    {
        var mixed = new Complete(ClientRequests.LeaseIn("billing"), [ClientRequests.LeaseIn("default")]);
        Assert.Null(RequestNamespace.Of(mixed));
        Assert.Null(RequestNamespace.Of(new GetTask("not a task id")));
        Assert.Null(RequestNamespace.Of(new Heartbeat("junk")));

        var both = new Identity("w", W, new HashSet<string> { "billing", "default" });
        var refusal = Permissions.Check(both, mixed, null);
        Assert.Equal(ErrorCode.Unauthorized, refusal?.Code);
        Assert.Contains("every namespace", refusal?.Message);
        Assert.Null(Permissions.Check(new Identity("w", W, null), mixed, null));
    }

    [Fact(DisplayName = "ids and lease tokens give the namespace of their task, queue requests the namespace they name")]
    public void NamespaceFromIds()
    {
        foreach (var (type, request) in ClientRequests.Samples("billing"))
        {
            var ns = RequestNamespace.Of(request);
            if (request is GetTask or CancelTask or Heartbeat or Complete or Fail or ReleaseTasks) Assert.Equal("billing", ns);
            else if (RequestNamespace.IsClusterWide(request)) Assert.Null(ns);
            else Assert.True(ns == "billing", $"{type.Name}: {ns}");
        }
    }

    [Fact(DisplayName = "a refusal escapes the namespace it echoes")]
    public void EscapesNamespace()
    {
        var refusal = Permissions.Check(new Identity("alice", P, new HashSet<string> { "a" }), new Enqueue("q", new TaskSpec([1])), "x\ny");
        Assert.DoesNotContain("\n", refusal?.Message);
        Assert.Contains("x\\x0ay", refusal?.Message);
    }
}
