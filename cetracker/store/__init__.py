"""The store: the one connection, a cursor per call, the write lock, the dialect (embedded DuckDB file or PostgreSQL) and the numbered migrations. Imports nothing of the product above it."""
