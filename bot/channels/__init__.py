"""Channel adapters: each turns one platform's updates into plain events and renders replies."""
