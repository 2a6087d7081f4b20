"""The web pages: server-rendered HTML (Jinja through litestar) with htmx for partial
updates, served by the same process as the HTTP API and going through the same
application paths (authorisation, queries, commands) as every other interface."""
