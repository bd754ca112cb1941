using Conduit.Testing;
using Xunit;

namespace Conduit.Cluster.Tests;

/// <summary>The multi-node specs share one throw-away PostgreSQL (each spec uses a database of its own) and run one at a time.</summary>
[CollectionDefinition(PostgresFixture.CollectionName)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>;
