"""accord's terminal client: the Textual board (screens, dialogs, widgets) and the CLI."""
