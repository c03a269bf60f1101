"""Report writers: terminal (rich), Excel workbook (openpyxl), machine-readable files."""
