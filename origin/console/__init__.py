"""The web console under /_console/: sign-in, browse, a file's page, upload, for
the people who prepare campaigns. Server-rendered HTML (Jinja2), no build step."""
