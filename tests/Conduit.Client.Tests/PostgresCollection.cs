using Conduit.Testing;
using Xunit;

namespace Conduit.Client.Tests;

/// <summary>
/// Tests in <c>[Collection("postgres")]</c> share one throw-away PostgreSQL server.
/// (xunit v2 finds collection definitions only in the test assembly, so it lives here.)
/// </summary>
[CollectionDefinition(PostgresFixture.CollectionName)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>;
