"""SQLite storage: parameterized SQL behind small async functions, one module per aggregate."""
