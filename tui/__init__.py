"""accord's terminal client: the Textual board, the network client and the CLI."""
