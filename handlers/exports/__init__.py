"""Exports for coordinators: validated reports and CCS-C participation as CSV, XLSX or
GeoJSON files with HXL hashtags, built in the background and sent in the chat (/export)."""
