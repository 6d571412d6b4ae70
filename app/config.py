"""Settings from the environment, validated once at start-up."""

from __future__ import annotations

import os
from pathlib import Path

from app.crypto import derived_key, parse_keys

BASE_DIR = Path(__file__).resolve().parent.parent

#: A placeholder that must never reach production.
DEFAULT_SECRET_KEY = "dev-insecure-change-me"  # noqa: S105 (refused in production)


#: Cross-region comparison bands (app.central.comparison): green at or beyond "green", yellow at or beyond
#: "yellow", else red. Shares are fractions (0.8 = 80 %); "median_first_response_days" and "reopen_rate"
#: are better when lower. COMPARE_THRESHOLDS in the config overrides single entries.
COMPARE_THRESHOLDS_DEFAULT: dict[str, dict[str, float]] = {
    "verified_share": {"green": 0.80, "yellow": 0.60},
    "followup_share": {"green": 0.80, "yellow": 0.60},
    "median_first_response_days": {"green": 3, "yellow": 5},
    "reopen_rate": {"green": 0.05, "yellow": 0.15},
    "avg_rating": {"green": 4.0, "yellow": 3.0},
    "score": {"green": 75, "yellow": 50},
}

#: The composite performance score (app.central.comparison.composite_score), the default ranking of the
#: central comparison: per indicator its weight and the values that earn 100 ("best") and 0 ("worst")
#: points, linear in between and clamped. COMPARE_SCORE in the config overrides single entries (a weight of
#: 0 leaves an indicator out). Documented on the "how we compute" page and in README.md.
COMPARE_SCORE_DEFAULT: dict[str, dict[str, float]] = {
    "verified_share": {"weight": 25, "best": 1.0, "worst": 0.0},
    "followup_share": {"weight": 25, "best": 1.0, "worst": 0.0},
    "median_first_response_days": {"weight": 15, "best": 1, "worst": 10},
    "oldest_open_days": {"weight": 15, "best": 30, "worst": 180},
    "reopen_rate": {"weight": 10, "best": 0.0, "worst": 0.3},
    "avg_rating": {"weight": 10, "best": 5.0, "worst": 1.0},
}


#: Pillow's own decompression-bomb ceiling (app.complaints.uploads sets it): MAX_IMAGE_PIXELS may not exceed it.
PILLOW_MAX_IMAGE_PIXELS = 100_000_000


#: OpenStreetMap's own tiles (https://operations.osmfoundation.org/policies/tiles/) and the credit they require.
OSM_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = "© OpenStreetMap contributors"


#: argon2id parameters for the test suite only (still argon2id; production uses the library's recommended ones
#: and refuses these: :func:`validate`).
TEST_PASSWORD_HASH_PARAMS = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


class ConfigError(RuntimeError):
    """Raised when the configuration cannot be used; the message says what to fix."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def postgres_engine_options(options: dict, pgbouncer: bool) -> dict:
    """Engine options of the app's PostgreSQL connections: every statement is planned for its own values.

    psycopg prepares a statement on the server after 5 runs, and PostgreSQL may then switch to a generic plan
    that does not know the region: measured at full scale, the generic plan of a 50-id lookup walked one
    region's whole category index (200,000 buffers, 250-420 ms) where its custom plan reads 50 rows by primary
    key (0.2 ms). ``plan_cache_mode=force_custom_plan`` keeps the prepared statement (no re-parse) and always
    plans with the values. Behind pgbouncer (transaction pooling) no statement is prepared at all
    (``prepare_threshold=None``), so each is planned with its values anyway."""
    out = dict(options)
    connect_args = dict(out.get("connect_args", {}))
    if pgbouncer:
        connect_args["prepare_threshold"] = None
    else:
        connect_args["options"] = f"{connect_args.get('options', '')} -c plan_cache_mode=force_custom_plan".strip()
    out["connect_args"] = connect_args
    return out


def load_config(overrides: dict | None = None) -> dict:
    """Build the Flask config from the environment, then apply ``overrides`` (tests).

    :raises ConfigError: in production mode without a real ``SECRET_KEY``.
    """
    env = os.environ
    app_env = (overrides or {}).get("APP_ENV") or env.get("APP_ENV", "development")
    instance = BASE_DIR / "instance"
    cfg: dict = {
        "APP_ENV": app_env,
        "SECRET_KEY": env.get("SECRET_KEY") or DEFAULT_SECRET_KEY,
        # Secrets at rest (app.crypto): Fernet keys, newest first, separated by commas. Empty outside
        # production: a key derived from SECRET_KEY (below); production refuses to start without one.
        "SECRETS_KEY": env.get("SECRETS_KEY") or "",
        # Signs the per-transaction tenant setting that row-level security checks (app.tenancy.rls);
        # default derived from SECRET_KEY. The database keeps a copy only lapor_owner can read.
        "RLS_SIGNING_KEY": env.get("RLS_SIGNING_KEY") or None,
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL") or f"sqlite:///{instance / 'lapor.db'}",
        # hide_parameters: SQL logs and database error messages never carry the values (names, emails).
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        # PostgreSQL roles (README, "Database roles and row-level security"): DATABASE_URL is the runtime
        # role (lapor_app), MIGRATION_DATABASE_URL the owner that `flask db upgrade` uses (lapor_owner),
        # REPORTING_DATABASE_URL the read-only role of the cross-region comparison (lapor_reporting).
        "MIGRATION_DATABASE_URL": env.get("MIGRATION_DATABASE_URL") or None,
        # DATABASE_URL points at pgbouncer in transaction pooling mode (README "Production at scale"):
        # consecutive transactions may run on different server connections, so no server-side prepared
        # statements (psycopg prepares a query after 5 runs; pgbouncer 1.18 cannot route them).
        "DATABASE_PGBOUNCER": _bool(env.get("DATABASE_PGBOUNCER")),
        "REPORTING_DATABASE_URL": env.get("REPORTING_DATABASE_URL") or None,
        "REDIS_URL": env.get("REDIS_URL") or None,
        "SENTRY_DSN": env.get("SENTRY_DSN") or None,
        # Tenants are also reachable at <slug>.<BASE_DOMAIN>; path prefixes work everywhere.
        "BASE_DOMAIN": env.get("BASE_DOMAIN", "localhost"),
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL", "http://localhost:5000"),
        "TENANTS_DIR": env.get("TENANTS_DIR") or str(BASE_DIR / "tenants"),
        "UPLOAD_DIR": env.get("UPLOAD_DIR") or str(instance / "uploads"),
        # Where attachments and logos live (app.storage): empty = UPLOAD_DIR on this machine;
        # s3://bucket[/prefix] = an S3-compatible service shared by every web node (README "Object storage").
        "STORAGE_URL": env.get("STORAGE_URL") or None,
        "STORAGE_S3_ENDPOINT_URL": env.get("STORAGE_S3_ENDPOINT_URL") or None,
        "STORAGE_S3_REGION": env.get("STORAGE_S3_REGION") or None,
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", 30 * 1024 * 1024)),
        "BABEL_DEFAULT_LOCALE": "id",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Jakarta",
        "BABEL_TRANSLATION_DIRECTORIES": str(BASE_DIR / "translations"),
        "LANGUAGES": ["id", "en"],
        "WTF_CSRF_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), app_env == "production"),
        "REMEMBER_COOKIE_DURATION": 60 * 60 * 24 * 14,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), app_env == "production"),
        # Strict-Transport-Security max-age on HTTPS responses (0: off). On by default in production.
        "HSTS_SECONDS": int(env.get("HSTS_SECONDS", 31536000 if app_env == "production" else 0)),
        # Reverse proxy: how many proxies set each X-Forwarded-* header (0: trust none). Behind one
        # nginx/Traefik that sets X-Forwarded-For and -Proto, use PROXY_FIX_X_FOR=1 PROXY_FIX_X_PROTO=1.
        "PROXY_FIX_X_FOR": int(env.get("PROXY_FIX_X_FOR", 0)),
        "PROXY_FIX_X_PROTO": int(env.get("PROXY_FIX_X_PROTO", 0)),
        "PROXY_FIX_X_HOST": int(env.get("PROXY_FIX_X_HOST", 0)),
        "PROXY_FIX_X_PORT": int(env.get("PROXY_FIX_X_PORT", 0)),
        "PROXY_FIX_X_PREFIX": int(env.get("PROXY_FIX_X_PREFIX", 0)),
        # Per-account backoff: after LOGIN_LOCK_AFTER consecutive failures, sign-in pauses 1, 2, 4…
        # minutes, never longer than LOGIN_LOCK_MAX_MINUTES (on top of LOGIN_RATE_LIMIT per address).
        "LOGIN_LOCK_AFTER": int(env.get("LOGIN_LOCK_AFTER", 5)),
        "LOGIN_LOCK_MAX_MINUTES": int(env.get("LOGIN_LOCK_MAX_MINUTES", 15)),
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI") or env.get("REDIS_URL") or "memory://",
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), True),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Redis down must not stop citizens from reporting: count in memory meanwhile instead of failing.
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "LOGIN_RATE_LIMIT": env.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour"),
        # Per API key (by its prefix): an integration that loops is slowed down, the service is not.
        # The public report form: unset, each region's settings.rate_limits.submit (tenant.toml) applies;
        # set, it overrides every region (load tests).
        "SUBMIT_RATE_LIMIT": env.get("SUBMIT_RATE_LIMIT") or None,
        "API_RATE_LIMIT": env.get("API_RATE_LIMIT", "300 per minute;5000 per hour"),
        # "Is this already reported?" on the report form (app.complaints.nearby): open public reports within
        # NEARBY_RADIUS_M metres sent in the last NEARBY_DAYS days; NEARBY_RATE_LIMIT per address.
        "NEARBY_RADIUS_M": int(env.get("NEARBY_RADIUS_M", 300)),
        "NEARBY_DAYS": int(env.get("NEARBY_DAYS", 30)),
        "NEARBY_RATE_LIMIT": env.get("NEARBY_RATE_LIMIT", "30 per minute;300 per hour"),
        # Duplicate candidates for staff (app.complaints.duplicates): open reports of the same category sent within
        # DUPLICATE_DAYS days, within DUPLICATE_RADIUS_M metres when both have a pin, whose title or description
        # has a trigram similarity of at least DUPLICATE_MIN_SIMILARITY; DUPLICATE_LIMIT listed on a report.
        "DUPLICATE_DAYS": int(env.get("DUPLICATE_DAYS", 7)),
        "DUPLICATE_RADIUS_M": int(env.get("DUPLICATE_RADIUS_M", 200)),
        "DUPLICATE_MIN_SIMILARITY": float(env.get("DUPLICATE_MIN_SIMILARITY", 0.3)),
        "DUPLICATE_LIMIT": int(env.get("DUPLICATE_LIMIT", 5)),
        # Reports compared by text at most on each side in time (the nearest ones): bounds the scan's cost.
        "DUPLICATE_SCAN_ROWS": int(env.get("DUPLICATE_SCAN_ROWS", 500)),
        "PASSWORD_RESET_MAX_AGE": int(env.get("PASSWORD_RESET_MAX_AGE", 3600)),
        # Seconds a reporter's one-time link to their personal data stays valid (UU PDP access right).
        "DATA_LINK_MAX_AGE": int(env.get("DATA_LINK_MAX_AGE", 24 * 3600)),
        # Complaint exports (app.complaints.exports): more rows than this run as a background job with a
        # progress page; the download link of such an export (and its file) expires after the second.
        "EXPORT_INLINE_MAX_ROWS": int(env.get("EXPORT_INLINE_MAX_ROWS", 2000)),
        "EXPORT_LINK_MAX_AGE": int(env.get("EXPORT_LINK_MAX_AGE", 24 * 3600)),
        # Mail: without MAIL_SERVER, messages are stored and shown on the development outbox page.
        "MAIL_SERVER": env.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(env.get("MAIL_PORT", 587)),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _bool(env.get("MAIL_USE_TLS"), True),
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER", "no-reply@lapor.localhost"),
        # SMS/WhatsApp gateway (HTTP). Without a URL the development adapter stores messages.
        "SMS_GATEWAY_URL": env.get("SMS_GATEWAY_URL") or None,
        "SMS_GATEWAY_TOKEN": env.get("SMS_GATEWAY_TOKEN") or None,
        # Webhooks (app.integrations.webhooks): secrets are derived from this key (default SECRET_KEY;
        # changing it changes every webhook secret). Failed deliveries retry after base·2^n seconds.
        "WEBHOOK_SIGNING_KEY": env.get("WEBHOOK_SIGNING_KEY") or None,
        "WEBHOOK_TIMEOUT": float(env.get("WEBHOOK_TIMEOUT", 10)),
        "WEBHOOK_MAX_ATTEMPTS": int(env.get("WEBHOOK_MAX_ATTEMPTS", 8)),
        "WEBHOOK_RETRY_BASE_SECONDS": int(env.get("WEBHOOK_RETRY_BASE_SECONDS", 60)),
        # Deliveries to (and saving) loopback/private/reserved addresses are refused unless allowed (allowed
        # outside production, for local test receivers); see app.integrations.outbound.
        "WEBHOOK_ALLOW_PRIVATE_HOSTS": _bool(env.get("WEBHOOK_ALLOW_PRIVATE_HOSTS"), app_env != "production"),
        # SP4N-LAPOR! bridge (app.integrations.sp4n): the national base URL (a region may override it in
        # tenant.toml [settings.sp4n]) and one token per region from SP4N_TOKEN_<SLUG>.
        "SP4N_BASE_URL": env.get("SP4N_BASE_URL") or None,
        "SP4N_TOKENS": {k[len("SP4N_TOKEN_"):].lower().replace("_", "-"): v
                        for k, v in env.items() if k.startswith("SP4N_TOKEN_") and v},
        "SP4N_TIMEOUT": float(env.get("SP4N_TIMEOUT", 15)),
        # As for webhooks: the bridge refuses loopback/private addresses unless allowed (on outside production).
        "SP4N_ALLOW_PRIVATE_HOSTS": _bool(env.get("SP4N_ALLOW_PRIVATE_HOSTS"), app_env != "production"),
        # Jobs run in-process when there is no Redis (demo); tests may force it either way.
        "JOBS_INLINE": _bool(env.get("JOBS_INLINE"), not env.get("REDIS_URL")),
        # Production: a request that wrote outbox rows answers at once and a thread of its process hands them to
        # RQ (app.jobs.outbox.BackgroundRelay); elsewhere the request relays them itself before answering.
        "OUTBOX_RELAY_BACKGROUND": _bool(env.get("OUTBOX_RELAY_BACKGROUND"), app_env == "production"),
        # A dispatched outbox row still unprocessed after this many seconds has its RQ job checked by the
        # periodic relay; a lost job (Redis restarted empty, worker killed mid-job) is handed over again.
        "OUTBOX_STUCK_SECONDS": int(env.get("OUTBOX_STUCK_SECONDS", 600)),
        # Processed outbox rows are deleted this many days after processing (their payloads may name
        # people); unprocessed rows are never deleted. Keeps the table, and the relay's reads, bounded.
        "OUTBOX_RETENTION_DAYS": int(env.get("OUTBOX_RETENTION_DAYS", 14)),
        # Photos are refused above this many pixels, checked from the header before any decoding (decoding
        # costs ~4-8 bytes a pixel); and the photos of one request together may not exceed the second.
        "MAX_IMAGE_PIXELS": int(env.get("MAX_IMAGE_PIXELS", 24_000_000)),
        "MAX_IMAGE_PIXELS_PER_REQUEST": int(env.get("MAX_IMAGE_PIXELS_PER_REQUEST", 60_000_000)),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO"),
        # Compress assets and data for rural connections, but not HTML: its pages carry CSRF tokens next
        # to text a visitor controls, which a compressed response would expose to BREACH-style guessing.
        "COMPRESS_MIMETYPES": ["text/css", "text/javascript", "application/javascript", "application/json",
                               "image/svg+xml", "text/plain", "text/csv", "application/xml"],
        "COMPRESS_ALGORITHM": ["br", "gzip"],
        "COMPRESS_MIN_SIZE": 512,
        # Cross-region comparison: band thresholds, and the peer benchmark on the staff dashboard, which
        # shows a median only when at least this many live regions have a value (fewer would let a
        # region work out another's figure) and caches the medians for this many seconds.
        "COMPARE_THRESHOLDS": {k: dict(v) for k, v in COMPARE_THRESHOLDS_DEFAULT.items()},
        "PEER_BENCHMARK_MIN_TENANTS": int(env.get("PEER_BENCHMARK_MIN_TENANTS", 3)),
        # A region counts towards the peer medians once live this many days with this many real (not test)
        # reports received in the benchmark period: a region live for an hour with one report is no peer.
        "PEER_MIN_LIVE_DAYS": int(env.get("PEER_MIN_LIVE_DAYS", 30)),
        "PEER_MIN_REPORTS": int(env.get("PEER_MIN_REPORTS", 20)),
        "COMPARE_SCORE": {k: dict(v) for k, v in COMPARE_SCORE_DEFAULT.items()},
        # No performance score for a region with fewer real reports than this in the period (too few to say).
        "COMPARE_SCORE_MIN_REPORTS": int(env.get("COMPARE_SCORE_MIN_REPORTS", 10)),
        "PEER_BENCHMARK_CACHE_SECONDS": int(env.get("PEER_BENCHMARK_CACHE_SECONDS", 300)),
        # The central comparison is shared by all web workers through Redis for this many seconds (0: off);
        # the periodic job app.jobs.runner.warm_comparison refreshes the default 12 months every 4 minutes.
        "COMPARE_CACHE_SECONDS": int(env.get("COMPARE_CACHE_SECONDS", 300)),
        # The public transparency page's aggregate figures, shared through Redis (numbers only).
        "TRANSPARENCY_CACHE_SECONDS": int(env.get("TRANSPARENCY_CACHE_SECONDS", 60)),
        # Basemap of every map (report form, tracking and staff pages, transparency, command center): an XYZ
        # tile URL such as https://tile.example.id/{z}/{x}/{y}.png (a tile server you run or may use).
        # Production default: OpenStreetMap's tiles (mind their usage policy at volume); elsewhere empty =
        # pins on a plain background, no outside requests. The Content-Security-Policy allows its host.
        "MAP_TILE_URL": env.get("MAP_TILE_URL", OSM_TILE_URL if app_env == "production" else "").strip(),
        "MAP_TILE_ATTRIBUTION": env.get("MAP_TILE_ATTRIBUTION", "").strip(),
        # Seconds between the command center's refreshes.
        "COMMAND_CENTER_REFRESH_SECONDS": int(env.get("COMMAND_CENTER_REFRESH_SECONDS", 30)),
    }
    for key in ("SQLALCHEMY_DATABASE_URI", "MIGRATION_DATABASE_URL", "REPORTING_DATABASE_URL"):
        if (cfg[key] or "").startswith("postgres://"):
            cfg[key] = "postgresql://" + cfg[key][len("postgres://"):]
    if overrides:
        cfg.update(overrides)
    if cfg.get("DATABASE_PGBOUNCER") or (cfg["SQLALCHEMY_DATABASE_URI"] or "").startswith("postgresql"):
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = postgres_engine_options(cfg["SQLALCHEMY_ENGINE_OPTIONS"],
                                                                   pgbouncer=bool(cfg.get("DATABASE_PGBOUNCER")))
    if not cfg.get("MAP_TILE_ATTRIBUTION") and "openstreetmap.org" in (cfg.get("MAP_TILE_URL") or ""):
        cfg["MAP_TILE_ATTRIBUTION"] = OSM_ATTRIBUTION
    cfg["TESTING"] = cfg.get("TESTING", False) or cfg["APP_ENV"] == "testing"
    cfg.setdefault("PASSWORD_HASH_PARAMS", TEST_PASSWORD_HASH_PARAMS if cfg["TESTING"] else None)
    _secrets_keys(cfg)
    validate(cfg)
    return cfg


def _secrets_keys(cfg: dict) -> None:
    """``SECRETS_KEY`` → ``SECRETS_KEYS`` (a list, newest first); outside production a key derived from
    ``SECRET_KEY`` when none is given, so development and tests need no set-up."""

    if cfg.get("SECRETS_KEYS"):
        return
    try:
        keys = parse_keys(cfg.get("SECRETS_KEY"))
    except ValueError as exc:
        raise ConfigError(f"{exc}; make one with `python -c 'from cryptography.fernet import Fernet; "
                          "print(Fernet.generate_key().decode())'`") from None
    if not keys and cfg["APP_ENV"] != "production":
        keys = [derived_key(cfg["SECRET_KEY"])]
    cfg["SECRETS_KEYS"] = keys


def validate(cfg: dict) -> None:
    """Refuse settings that would be unsafe in production.

    :raises ConfigError: with a message that names the setting to fix.
    """
    if cfg["APP_ENV"] not in {"development", "testing", "production"}:
        raise ConfigError(f"APP_ENV must be development, testing or production, not {cfg['APP_ENV']!r}")
    tiles = cfg.get("MAP_TILE_URL") or ""
    placeholders = all(p in tiles for p in ("{z}", "{x}", "{y}"))
    if tiles and not (tiles.startswith(("https://", "http://", "/")) and placeholders):
        raise ConfigError("MAP_TILE_URL must be an http(s) or local URL with {z}, {x} and {y}, "
                          "e.g. https://tiles.example.go.id/{z}/{x}/{y}.png (or empty for no map tiles)")
    if not 1 <= cfg["MAX_IMAGE_PIXELS"] <= PILLOW_MAX_IMAGE_PIXELS:
        raise ConfigError(f"MAX_IMAGE_PIXELS must be from 1 to {PILLOW_MAX_IMAGE_PIXELS:_} (pixels of one photo)")
    if cfg["MAX_IMAGE_PIXELS_PER_REQUEST"] < cfg["MAX_IMAGE_PIXELS"]:
        raise ConfigError("MAX_IMAGE_PIXELS_PER_REQUEST must be at least MAX_IMAGE_PIXELS (else no photo of the "
                          "largest size could be sent)")
    if cfg["APP_ENV"] == "production":
        if cfg.get("PASSWORD_HASH_PARAMS"):
            raise ConfigError("PASSWORD_HASH_PARAMS is for the test suite only; production hashes passwords with "
                              "argon2id's recommended parameters")
        key = cfg.get("SECRET_KEY") or ""
        if key == DEFAULT_SECRET_KEY or len(key) < 32:
            raise ConfigError(
                "SECRET_KEY is missing or is the development default. In production set SECRET_KEY "
                "to a random value of at least 32 characters, e.g. "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
            )
        if not cfg.get("SECRETS_KEYS"):
            raise ConfigError(
                "SECRETS_KEY is missing. In production set SECRETS_KEY to one or more Fernet keys (newest "
                "first, comma-separated) that encrypt stored secrets, e.g. `python -c 'from "
                "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`."
            )
