"""The SQL database: schema, engine, migrations. SQLite by default, PostgreSQL in production."""
