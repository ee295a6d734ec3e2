"""The service catalogue: the catalogue item and ticket pages that modules share (room for service requests)."""
