"""The gunicorn access log leaves query strings (API keys, search terms) out."""

import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from gunicorn.config import Config
from gunicorn.glogging import Logger

ROOT = Path(__file__).resolve().parents[2]


def test_access_log_lines_have_no_query_string():
    cfg = Config()
    namespace = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    cfg.set("access_log_format", namespace["access_log_format"])
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/banjarmasin/staff/?q=Siti+Aminah&api_key=lpr_secret",
               "PATH_INFO": "/banjarmasin/staff/", "QUERY_STRING": "q=Siti+Aminah&api_key=lpr_secret",
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "10.0.0.1"}
    response = SimpleNamespace(status="200 OK", response_length=10, sent=10, headers=[])
    request = SimpleNamespace(headers=[])
    atoms = Logger(cfg).atoms(response, request, environ, timedelta(milliseconds=5))
    line = cfg.access_log_format % atoms
    assert '"GET /banjarmasin/staff/ HTTP/1.1" 200' in line
    assert "Siti" not in line and "lpr_secret" not in line and "?" not in line
