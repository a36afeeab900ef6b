"""watchers: everything about a feed and its items.

Pipeline stages, each its own module (see ARCHITECTURE.md):

- :mod:`watchers.fetch`    the only module that talks HTTP
- :mod:`watchers.parse`    bytes -> entries (feedparser, plus :mod:`watchers.jsonfeed`)
- :mod:`watchers.identity` stable item identity and canonical URLs
- :mod:`watchers.text`     HTML to text, normalisation for matching
- :mod:`watchers.query`    the watch query language -> a tree
- :mod:`watchers.match`    the compiled watchlist -> hits with explanations
- :mod:`watchers.schedule` when to poll a feed next (backoff, Retry-After)
- :mod:`watchers.poll`     one feed end to end; the only place stages meet storage

Parse, identity, text, query, match and schedule are pure: values in, values out.
"""
