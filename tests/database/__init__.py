"""The database: migrations and their runner, the contract (schema, drift and its repair, counters,
chat_messages), locks and hostile servers/roles, connection failures classified in any server language."""
