"""Rule files: the circle schema, YAML with positions, the meaning checks, hub tables, docs."""
