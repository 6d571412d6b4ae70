"""Settings come from the environment and unsafe production settings stop the start-up."""

from __future__ import annotations

import pytest

from app.accounts.models import PasswordMixin, configure_password_hashing, hash_password
from app.config import BASE_DIR, DEFAULT_SECRET_KEY, TEST_PASSWORD_HASH_PARAMS, ConfigError, load_config

GOOD_KEY = "k" * 48
GOOD_SECRETS_KEY = "a7Yd0n2v1bB9xMHhm0lV3vWq3a8m5lR2q4l0Qd8QkqE="  # a Fernet key (32 bytes, url-safe base64)


@pytest.fixture()
def env(monkeypatch):
    """A clean environment: none of the variables load_config reads are inherited from the shell."""
    for name in ("APP_ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "JOBS_INLINE", "SESSION_COOKIE_SECURE",
                 "RATELIMIT_STORAGE_URI", "PASSWORD_RESET_MAX_AGE", "SECRETS_KEY"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("key", [None, "", DEFAULT_SECRET_KEY, "short-key", "x" * 31])
def test_production_refuses_a_missing_default_or_short_secret_key(env, key):
    env.setenv("APP_ENV", "production")
    if key is not None:
        env.setenv("SECRET_KEY", key)
    with pytest.raises(ConfigError) as err:
        load_config()
    message = str(err.value)
    assert "SECRET_KEY" in message and "32 characters" in message


def test_production_accepts_a_long_random_key_and_secures_the_cookie(env):
    env.setenv("APP_ENV", "production")
    env.setenv("SECRET_KEY", GOOD_KEY)
    env.setenv("SECRETS_KEY", GOOD_SECRETS_KEY)
    cfg = load_config()
    assert cfg["SECRET_KEY"] == GOOD_KEY
    assert cfg["SECRETS_KEYS"] == [GOOD_SECRETS_KEY]
    assert cfg["SESSION_COOKIE_SECURE"] is True
    assert cfg["TESTING"] is False


def test_create_app_in_production_without_a_key_does_not_start(env):
    from app import create_app

    env.setenv("APP_ENV", "production")
    with pytest.raises(ConfigError):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_development_may_use_the_default_key(env):
    cfg = load_config()
    assert cfg["APP_ENV"] == "development"
    assert cfg["SECRET_KEY"] == DEFAULT_SECRET_KEY
    assert cfg["SESSION_COOKIE_SECURE"] is False


def test_unknown_app_env_is_refused_by_name(env):
    env.setenv("APP_ENV", "staging")
    with pytest.raises(ConfigError, match="staging"):
        load_config()


def test_database_defaults_to_a_sqlite_file_in_the_instance_folder(env):
    cfg = load_config()
    assert cfg["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{BASE_DIR / 'instance' / 'lapor.db'}"


def test_heroku_style_postgres_url_is_rewritten(env):
    env.setenv("DATABASE_URL", "postgres://lapor:pw@db.example:5432/lapor")
    assert load_config()["SQLALCHEMY_DATABASE_URI"] == "postgresql://lapor:pw@db.example:5432/lapor"


def test_postgresql_url_is_kept_as_given(env):
    env.setenv("DATABASE_URL", "postgresql+psycopg://lapor@db.example/lapor")
    assert load_config()["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://lapor@db.example/lapor"


def test_jobs_run_in_process_without_redis_and_through_rq_with_it(env):
    assert load_config()["JOBS_INLINE"] is True
    env.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    cfg = load_config()
    assert cfg["JOBS_INLINE"] is False
    assert cfg["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"  # limits shared by all workers


def test_overrides_win_over_the_environment(env):
    env.setenv("PASSWORD_RESET_MAX_AGE", "60")
    assert load_config()["PASSWORD_RESET_MAX_AGE"] == 60
    assert load_config({"PASSWORD_RESET_MAX_AGE": 5})["PASSWORD_RESET_MAX_AGE"] == 5


@pytest.mark.parametrize("pixels, per_request", [("0", None), ("100000001", None), ("24000000", "1000")])
def test_image_pixel_limits_are_checked_at_start(env, pixels, per_request):
    env.setenv("MAX_IMAGE_PIXELS", pixels)
    if per_request is not None:
        env.setenv("MAX_IMAGE_PIXELS_PER_REQUEST", per_request)
    with pytest.raises(ConfigError) as err:
        load_config()
    assert "MAX_IMAGE_PIXELS" in str(err.value)


def test_image_pixel_limits_default_to_24_and_60_megapixels(env):
    env.delenv("MAX_IMAGE_PIXELS", raising=False)
    env.delenv("MAX_IMAGE_PIXELS_PER_REQUEST", raising=False)
    cfg = load_config()
    assert (cfg["MAX_IMAGE_PIXELS"], cfg["MAX_IMAGE_PIXELS_PER_REQUEST"]) == (24_000_000, 60_000_000)


def test_production_refuses_to_start_without_a_secrets_key(env):
    env.setenv("APP_ENV", "production")
    env.setenv("SECRET_KEY", GOOD_KEY)
    with pytest.raises(ConfigError, match="SECRETS_KEY"):
        load_config()


def test_a_secrets_key_that_is_not_a_fernet_key_is_refused_by_name(env):
    env.setenv("SECRETS_KEY", "not-a-key")
    with pytest.raises(ConfigError, match="SECRETS_KEY"):
        load_config()


def test_development_derives_a_secrets_key_and_reads_a_list_newest_first(env):
    from app.crypto import derived_key

    assert load_config()["SECRETS_KEYS"] == [derived_key(DEFAULT_SECRET_KEY)]
    old = derived_key("old")
    env.setenv("SECRETS_KEY", f"{GOOD_SECRETS_KEY}, {old}")
    assert load_config()["SECRETS_KEYS"] == [GOOD_SECRETS_KEY, old]


def test_behind_pgbouncer_psycopg_prepares_no_statements(monkeypatch):
    # pgbouncer's transaction pooling may run the next transaction on another server connection,
    # where a statement psycopg prepared earlier does not exist.
    monkeypatch.setenv("DATABASE_PGBOUNCER", "1")
    options = load_config()["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["connect_args"] == {"prepare_threshold": None}
    assert options["pool_pre_ping"] and options["hide_parameters"]
    monkeypatch.delenv("DATABASE_PGBOUNCER")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert "connect_args" not in load_config()["SQLALCHEMY_ENGINE_OPTIONS"]


def test_a_direct_postgresql_connection_plans_every_statement_with_its_values(monkeypatch):
    # A prepared statement's generic plan does not know the region: one walked a region's whole index.
    monkeypatch.delenv("DATABASE_PGBOUNCER", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://lapor_app@db.internal/lapor")
    options = load_config()["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["connect_args"] == {"options": "-c plan_cache_mode=force_custom_plan"}
    assert options["pool_pre_ping"] and options["hide_parameters"]


def test_only_the_test_configuration_hashes_passwords_lightly(env):
    env.setenv("APP_ENV", "development")
    assert load_config()["PASSWORD_HASH_PARAMS"] is None  # argon2id's recommended parameters
    env.setenv("APP_ENV", "testing")
    assert load_config()["PASSWORD_HASH_PARAMS"] == TEST_PASSWORD_HASH_PARAMS
    env.setenv("APP_ENV", "production")
    env.setenv("SECRET_KEY", GOOD_KEY)
    env.setenv("SECRETS_KEY", GOOD_SECRETS_KEY)
    assert load_config()["PASSWORD_HASH_PARAMS"] is None
    with pytest.raises(ConfigError, match="PASSWORD_HASH_PARAMS"):
        load_config({"PASSWORD_HASH_PARAMS": TEST_PASSWORD_HASH_PARAMS})


class _Account(PasswordMixin):
    def __init__(self, password_hash: str) -> None:
        self.password_hash = password_hash


def test_a_hash_made_with_other_parameters_still_verifies():
    try:
        configure_password_hashing(None)
        strong = hash_password("correct-horse-battery")
        configure_password_hashing(TEST_PASSWORD_HASH_PARAMS)
        light = hash_password("correct-horse-battery")
        assert strong.startswith("$argon2id$") and "m=65536" in strong and "m=1024" in light
        account = _Account(strong)
        assert account.check_password("correct-horse-battery") and not account.check_password("wrong")
    finally:
        configure_password_hashing(TEST_PASSWORD_HASH_PARAMS)
