"""The facility catalogue: facility types and how to recognise them in POI data."""
