"""Analytics: the statement stream flattened into ClickHouse for SQL (see README.md).

`schema` (the DDL) → `flatten` (statement → row) → `sink` (bus consumer → batched inserts) →
`engine` (chdb embedded, or a ClickHouse server) → `reports` and `sql` (read-only queries).
"""
