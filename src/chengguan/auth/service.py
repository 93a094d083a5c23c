"""Authentication (passwords, tokens, API keys), throttling and user administration."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from chengguan import audit, revisions
from chengguan.auth import tokens
from chengguan.auth.models import ACCOUNTS, ApiKey, LoginAttempt, RefreshToken, User, UserRole
from chengguan.auth.passwords import check_policy, hash_password, needs_rehash, verify_password
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Role
from chengguan.auth.schemas import UserIn, UserPatch
from chengguan.config import Settings
from chengguan.db import utcnow
from chengguan.errors import Conflict, Invalid, NotFound, TooManyRequests, Unauthorized
from chengguan.orgs import service as orgs_service
from chengguan.orgs.models import Organisation

# An address may fail more often than an account: many people share an office NAT.
IP_FAILURE_FACTOR = 4
API_KEY_TOUCH_INTERVAL = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


# -- principals ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _KeyRecord:
    """What checking an API key needs of its row."""

    id: int
    user_id: int
    secret_hash: str
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


@dataclass
class _Accounts:
    """Principals and API keys as of one state of the accounts and the organisation tree.

    Every authenticated request used to load its user, the user's roles and organisation (three
    queries, a third of the CPU of a small intake request). The state is named by the revision
    tokens of ``accounts`` (users, roles, keys: any ORM change bumps it, in every process) and
    ``orgs`` (a user's organisation path): a revoked key, a new password, a changed role or a
    disabled account is a new state, and the next request in every process rebuilds from the
    database. The tokens are read before any row, so a row read later is never older than the
    state it is filed under (PostgreSQL's READ COMMITTED sees each statement's newest commit)."""

    state: tuple[str, ...]
    principals: dict[int, Principal] = field(default_factory=dict)
    keys: dict[str, _KeyRecord] = field(default_factory=dict)  # by prefix


_accounts: dict[str, _Accounts] = {}  # by database URL
# When this process last wrote an API key's last_used_at (a hint, touched at most once a minute).
_key_touched: dict[int, dt.datetime] = {}


def _accounts_of(session: Session) -> _Accounts:
    url = str(session.get_bind().engine.url)
    state = revisions.tokens(session, ACCOUNTS, Organisation.__revision__)
    cached = _accounts.get(url)
    if cached is None or cached.state != state:
        cached = _accounts[url] = _Accounts(state)
    return cached


def principal_of(session: Session, user: User) -> Principal:
    org_path = None
    if user.org_id is not None:
        org = session.get(Organisation, user.org_id)
        org_path = org.path if org else None
    return Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        kind=user.kind,
        roles=frozenset(Role(r) for r in user.role_names),
        org_id=user.org_id,
        org_path=org_path,
    )


def _active_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise Unauthorized("account unknown or disabled", headers=tokens.BEARER_CHALLENGE)
    return user


def _active_principal(session: Session, user_id: int) -> Principal:
    """The principal of an active account, from the cache of the current accounts state."""
    accounts = _accounts_of(session)
    principal = accounts.principals.get(user_id)
    if principal is None:
        principal = accounts.principals[user_id] = principal_of(session, _active_user(session, user_id))
    return principal


def authenticate_token(session: Session, settings: Settings, token: str) -> Principal:
    return _active_principal(session, tokens.decode_access_token(settings.signing_key, token))


def _key_record(session: Session, prefix: str) -> _KeyRecord | None:
    accounts = _accounts_of(session)
    record = accounts.keys.get(prefix)
    if record is None:
        row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
        if row is None:
            return None
        record = accounts.keys[prefix] = _KeyRecord(
            row.id, row.user_id, row.secret_hash, row.expires_at, row.revoked_at, row.last_used_at
        )
    return record


def authenticate_api_key(session: Session, key: str) -> Principal:
    prefix, secret = tokens.split_api_key(key)
    record = _key_record(session, prefix)
    now = utcnow()
    if record is None or not tokens.api_secret_matches(secret, record.secret_hash):
        raise Unauthorized("invalid API key", field="X-API-Key")
    if record.revoked_at is not None or (record.expires_at is not None and record.expires_at <= now):
        raise Unauthorized("API key revoked or expired", field="X-API-Key")
    principal = _active_principal(session, record.user_id)
    last = _key_touched.get(record.id, record.last_used_at)
    if last is None or now - last > API_KEY_TOUCH_INTERVAL:
        session.execute(update(ApiKey).where(ApiKey.id == record.id).values(last_used_at=now))
        _key_touched[record.id] = now  # kept if the request rolls back: the hint is a minute late at worst
    return principal


# -- password login, throttled -------------------------------------------------------------------


def _recent_failures(session: Session, settings: Settings, column: str, value: str) -> int:
    since = utcnow() - dt.timedelta(minutes=settings.login_window_minutes)
    col = getattr(LoginAttempt, column)
    return (
        session.scalar(
            select(func.count()).where(col == value, LoginAttempt.at >= since, LoginAttempt.success.is_(False))
        )
        or 0
    )


def check_throttle(session: Session, settings: Settings, username: str, ip: str) -> None:
    """429 before the password is even looked at, so a locked account leaks nothing."""
    if (
        _recent_failures(session, settings, "username", username) >= settings.login_max_failures
        or _recent_failures(session, settings, "ip", ip) >= settings.login_max_failures * IP_FAILURE_FACTOR
    ):
        retry = settings.login_window_minutes * 60
        raise TooManyRequests(
            f"too many failed logins; try again in {settings.login_window_minutes} minutes / 登录失败次数过多",
            headers={"Retry-After": str(retry)},
        )


def record_attempt(session: Session, username: str, ip: str, success: bool) -> None:
    session.add(LoginAttempt(username=username, ip=ip, success=success))


def verify_login(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active or user.kind != "person":
        return None
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def issue_tokens(session: Session, settings: Settings, user: User, family: str | None = None) -> TokenPair:
    now = utcnow()
    refresh, refresh_hash = tokens.new_refresh_token()
    session.add(
        RefreshToken(
            user_id=user.id,
            token_hash=refresh_hash,
            family=family or tokens.new_family(),
            expires_at=now + dt.timedelta(days=settings.refresh_token_days),
        )
    )
    access = tokens.issue_access_token(settings.signing_key, user.id, settings.access_token_minutes, now)
    return TokenPair(access, refresh, settings.access_token_minutes * 60)


def login_succeeded(session: Session, settings: Settings, user: User) -> TokenPair:
    user.last_login_at = utcnow()
    audit.record(session, "auth.login", "users", user.id, org_id=user.org_id)
    return issue_tokens(session, settings, user)


def rotate_refresh(session: Session, settings: Settings, refresh: str) -> TokenPair | None:
    """New pair for a live refresh token. A reused (already rotated) token revokes its whole
    family and returns None: someone else holds a copy."""
    row = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == tokens.digest(refresh)))
    now = utcnow()
    if row is None or row.expires_at <= now:
        return None
    if row.revoked_at is not None:
        revoke_family(session, row.family)
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    row.revoked_at = now
    return issue_tokens(session, settings, user, family=row.family)


def revoke_family(session: Session, family: str) -> None:
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def logout(session: Session, refresh: str) -> None:
    row = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == tokens.digest(refresh)))
    if row is not None:
        revoke_family(session, row.family)


# -- user administration -------------------------------------------------------------------------


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


def list_users(
    session: Session,
    *,
    org_id: int | None = None,
    role: Role | None = None,
    q: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[Sequence[User], int]:
    stmt = select(User)
    if org_id is not None:
        stmt = stmt.where(User.org_id == org_id)
    if role is not None:
        stmt = stmt.where(User.roles.any(UserRole.role == role))
    if q:
        stmt = stmt.where(User.username.contains(q, autoescape=True) | User.display_name.contains(q, autoescape=True))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    return session.scalars(stmt.order_by(User.id).limit(limit).offset(offset)).all(), total


def _check_org_for(session: Session, org_id: int | None, roles: set[Role]) -> Organisation | None:
    if org_id is None:
        if roles - {Role.CITIZEN}:
            raise Invalid("staff and system accounts must belong to an organisation", field="org_id")
        return None
    org = session.get(Organisation, org_id)
    if org is None:
        raise Invalid(f"unknown organisation {org_id}", field="org_id")
    orgs_service.require_writable(session, org)
    return org


def create_user(session: Session, data: UserIn, *, hasher: Callable[[str], str] = hash_password) -> User:
    """``hasher`` lets a bulk loader hash one shared password once (the demo city's public one)."""
    roles = set(data.roles)
    if data.kind == "system" and roles != {Role.SYSTEM}:
        raise Invalid("a system account has exactly the role 'system'", field="roles")
    if data.kind == "person" and Role.SYSTEM in roles:
        raise Invalid("the role 'system' is for system accounts", field="roles")
    if data.kind == "person":
        if data.password is None:
            raise Invalid("a person needs a password", field="password")
        check_policy(data.password)
    org = _check_org_for(session, data.org_id, roles)
    if (
        session.scalar(select(User.id).where(User.username == data.username).execution_options(skip_scope=True))
        is not None
    ):
        raise Conflict(f"username {data.username!r} is taken", field="username")
    user = User(
        username=data.username,
        display_name=data.display_name,
        kind=data.kind,
        org_id=org.id if org else None,
        phone=data.phone,
        email=data.email,
        password_hash=hasher(data.password) if data.password else None,
        roles=[UserRole(role=r) for r in sorted(roles)],
    )
    session.add(user)
    session.flush()
    return user


def _require_user_writable(session: Session, user: User) -> None:
    if user.org_id is not None:
        orgs_service.require_writable(session, orgs_service.get(session, user.org_id))


def update_user(session: Session, user: User, patch: UserPatch) -> User:
    _require_user_writable(session, user)
    changes = patch.model_dump(exclude_unset=True)
    if "password" in changes:
        password = changes.pop("password")
        check_policy(password)
        user.password_hash = hash_password(password)
        audit.record(session, "users.password_reset", "users", user.id, org_id=user.org_id)
    if "roles" in changes:
        roles = set(changes.pop("roles"))
        if (user.kind == "system") != (roles == {Role.SYSTEM}):
            raise Invalid("a system account has exactly the role 'system'; people never do", field="roles")
        user.roles = [r for r in user.roles if r.role in roles] + [
            UserRole(role=r) for r in sorted(roles - user.role_names)
        ]
    if "org_id" in changes:
        org = _check_org_for(session, changes.pop("org_id"), {Role(r) for r in user.role_names})
        user.org_id = org.id if org else None
    for key, value in changes.items():
        setattr(user, key, value)
    session.flush()
    return user


def create_api_key(session: Session, user: User, name: str, expires_at: dt.datetime | None) -> tuple[ApiKey, str]:
    if user.kind != "system":
        raise Invalid("API keys are issued to system accounts only", field="user_id")
    _require_user_writable(session, user)
    new = tokens.new_api_key()
    row = ApiKey(user_id=user.id, prefix=new.prefix, secret_hash=new.secret_hash, name=name, expires_at=expires_at)
    session.add(row)
    session.flush()
    return row, new.key


def revoke_api_key(session: Session, user: User, key_id: int) -> None:
    _require_user_writable(session, user)
    row = session.get(ApiKey, key_id)
    if row is None or row.user_id != user.id:
        raise NotFound(f"API key {key_id} not found")
    row.revoked_at = utcnow()


def api_keys_of(session: Session, user: User) -> Sequence[ApiKey]:
    return session.scalars(select(ApiKey).where(ApiKey.user_id == user.id).order_by(ApiKey.id)).all()
