"""gunicorn settings read from the working directory by every gunicorn command (Dockerfile, Procfile, README).

Access log lines carry the path without its query string: queries can hold an Open311 ``api_key`` or an
inbox search for a reporter's name (UU PDP: nothing personal in logs).
"""

access_log_format = '%(h)s %(l)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s'
