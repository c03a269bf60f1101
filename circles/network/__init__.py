"""Street networks: reading, topology repair, building, chains, the cache, snapping."""
