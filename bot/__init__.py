"""bot: the application. CLI, config, scheduling, delivery to notifiers, message formatting.

Nothing here touches feed bytes or SQL: feeds go through :mod:`watchers`,
the database through :mod:`storage`. :mod:`bot.app` is the one composition
root where the database, the HTTP client and the notifiers are built and closed.
"""
