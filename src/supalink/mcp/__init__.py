"""MCP clients, server templates, the safe config editor and the keyring launcher."""
