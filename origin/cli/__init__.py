"""The media-origin command: its parser and subcommands, and the servers it runs.
Kept light: a subcommand imports what it needs only when it runs."""
