"""Settings come from the environment and unsafe production settings stop the start-up."""

from __future__ import annotations

import pytest

from app.config import BASE_DIR, DEFAULT_SECRET_KEY, ConfigError, load_config

GOOD_KEY = "k" * 48


@pytest.fixture()
def env(monkeypatch):
    """A clean environment: none of the variables load_config reads are inherited from the shell."""
    for name in ("APP_ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "JOBS_INLINE", "SESSION_COOKIE_SECURE",
                 "RATELIMIT_STORAGE_URI", "PASSWORD_RESET_MAX_AGE"):
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
    cfg = load_config()
    assert cfg["SECRET_KEY"] == GOOD_KEY
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


def test_behind_pgbouncer_psycopg_prepares_no_statements(monkeypatch):
    # pgbouncer's transaction pooling may run the next transaction on another server connection,
    # where a statement psycopg prepared earlier does not exist.
    monkeypatch.setenv("DATABASE_PGBOUNCER", "1")
    options = load_config()["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["connect_args"] == {"prepare_threshold": None}
    assert options["pool_pre_ping"] and options["hide_parameters"]
    monkeypatch.delenv("DATABASE_PGBOUNCER")
    assert "connect_args" not in load_config()["SQLALCHEMY_ENGINE_OPTIONS"]
