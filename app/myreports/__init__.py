"""“Laporan saya”: a citizen's own reports (filed or followed), for signed-in citizens and by one-time link."""
