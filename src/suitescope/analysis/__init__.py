"""Pure functions over records, shared by `suitescope report` and (later) the server."""
