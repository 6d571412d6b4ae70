"""Unbound extension objects; create_app() initialises them."""

from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as _FlaskSession
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData

# Deterministic constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class TenantSession(_FlaskSession):
    """``get()`` can answer from the identity map without a query, which the tenant filter never
    sees: check the row's tenant there too (app.tenancy.scope)."""

    def get(self, entity, ident, **kwargs):
        from app.tenancy.scope import check_identity_hit

        return check_identity_hit(super().get(entity, ident, **kwargs), kwargs.get("execution_options"))


db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING), session_options={"class_": TenantSession})
migrate = Migrate()
login_manager = LoginManager()
babel = Babel()
csrf = CSRFProtect()
compress = Compress()
limiter = Limiter(key_func=get_remote_address)
