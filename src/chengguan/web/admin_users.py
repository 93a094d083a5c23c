"""Users and roles: the accounts of the user's subtree, a new account (argon2 through the auth
service), its roles, a password reset and deactivation. A district's administrator sees and
changes only its own district's accounts: the session's scope hides the others (404)."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from chengguan.auth import service
from chengguan.auth.deps import DbSession
from chengguan.auth.models import User
from chengguan.auth.principal import Principal
from chengguan.auth.roles import ROLE_LABELS, Permission, Role
from chengguan.auth.schemas import UserIn, UserPatch
from chengguan.errors import ChengguanError
from chengguan.orgs import service as orgs_service
from chengguan.web.admin_forms import admin_page, allowed, errors_of, may, optional, parsed, text, values_of
from chengguan.web.desk import Form, org_names
from chengguan.web.i18n import Translator, language_of
from chengguan.web.pages import PageUser
from chengguan.web.routing import Rendered, WebRoute, redirect

router = APIRouter(route_class=WebRoute, include_in_schema=False)
READ, WRITE = Permission.USERS_READ, Permission.USERS_WRITE
PAGE = 100
PERSON_ROLES = [r for r in Role if r != Role.SYSTEM]  # system accounts are made with their API key (CLI/API)


def _roles(t: Translator) -> list[tuple[str, str]]:
    return [(r.value, t.pick(*ROLE_LABELS[r])) for r in PERSON_ROLES]


def _org_choices(session: Session, user: Principal) -> list[tuple[int, str]]:
    """Where the user may put an account: its own subtree (the chain above it is not its to staff)."""
    if user.org_id is None:
        return []
    own = orgs_service.get(session, user.org_id)
    return [(o.id, f"{'—' * (o.depth - own.depth)} {o.name}") for o in orgs_service.subtree(session, own)]


def _list_page(
    request: Request,
    session: Session,
    user: Principal,
    q: str = "",
    offset: int = 0,
    *,
    values: Mapping[str, str] | None = None,
    chosen: list[str] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    t = Translator(language_of(request))
    users, total = service.list_users(session, q=q or None, limit=PAGE, offset=offset)
    return admin_page(
        request,
        "admin/users.html",
        user,
        status=status,
        users=users,
        total=total,
        offset=offset,
        page_size=PAGE,
        q=q,
        orgs=org_names(session, [u.org_id for u in users]),
        role_names={value: label for value, label in _roles(t)}
        | {Role.SYSTEM.value: t.pick(*ROLE_LABELS[Role.SYSTEM])},
        roles=_roles(t),
        org_choices=_org_choices(session, user),
        can_edit=may(user, WRITE),
        values=values or {},
        chosen=chosen or [],
        errors=errors or {},
        saved=request.query_params.get("saved"),
    )


@router.get("/admin/users")
def users(
    request: Request,
    session: DbSession,
    user: PageUser,
    q: str = Query("", max_length=64),
    offset: int = Query(0, ge=0),
) -> Response:
    allowed(user, READ)
    return _list_page(request, session, user, q.strip(), offset)


def _chosen_roles(form: FormData) -> list[str]:
    return [v for v in form.getlist("roles") if isinstance(v, str)]


@router.post("/admin/users")
def create_user(request: Request, session: DbSession, user: PageUser, form: Form) -> Response:
    allowed(user, WRITE)
    try:
        data = parsed(
            UserIn,
            {
                "username": text(form, "username"),
                "display_name": text(form, "display_name"),
                "password": form.get("password") or None,
                "org_id": optional(form, "org_id"),
                "roles": _chosen_roles(form),
                "phone": optional(form, "phone"),
                "email": optional(form, "email"),
            },
        )
        created = service.create_user(session, data)
    except ChengguanError as exc:
        values = {k: v for k, v in values_of(form).items() if k != "password"}  # never sent back
        page = _list_page(
            request,
            session,
            user,
            values=values,
            chosen=_chosen_roles(form),
            errors=errors_of(exc, language_of(request)),
            status=exc.status,
        )
        raise Rendered(page) from exc
    return redirect(request, f"/admin/users?saved={created.username}")


# -- one account ---------------------------------------------------------------------------------


def _user_page(
    request: Request,
    session: Session,
    user: Principal,
    account: User,
    *,
    errors: Mapping[str, str] | None = None,
    chosen: list[str] | None = None,
    status: int = 200,
) -> Response:
    t = Translator(language_of(request))
    return admin_page(
        request,
        "admin/user.html",
        user,
        status=status,
        account=account,
        org=org_names(session, [account.org_id]).get(account.org_id or 0, "—"),
        roles=_roles(t),
        chosen=chosen if chosen is not None else sorted(account.role_names),
        can_edit=may(user, WRITE) and account.kind == "person",
        errors=errors or {},
        saved=request.query_params.get("saved"),
    )


@router.get("/admin/users/{user_id}")
def user_page(request: Request, user_id: int, session: DbSession, user: PageUser) -> Response:
    allowed(user, READ)
    return _user_page(request, session, user, service.get_user(session, user_id))


def _patch(request: Request, session: Session, user: Principal, user_id: int, form: Form, key: str) -> Response:
    """One change to an account through ``update_user``; its page again with the error if refused."""
    allowed(user, WRITE)
    account = service.get_user(session, user_id)
    sent: dict[str, object] = {
        "roles": _chosen_roles(form),
        "password": str(form.get("password") or ""),
        "active": text(form, "active") == "true",
    }
    changes = {key: sent[key]}  # the one field this form changes
    try:
        service.update_user(session, account, parsed(UserPatch, changes))
    except ChengguanError as exc:
        errors = errors_of(exc, language_of(request))
        chosen = _chosen_roles(form) if key == "roles" else None
        raise Rendered(
            _user_page(request, session, user, account, errors=errors, chosen=chosen, status=exc.status)
        ) from exc
    return redirect(request, f"/admin/users/{account.id}?saved={key}")


@router.post("/admin/users/{user_id}/roles")
def set_roles(request: Request, user_id: int, session: DbSession, user: PageUser, form: Form) -> Response:
    return _patch(request, session, user, user_id, form, "roles")


@router.post("/admin/users/{user_id}/password")
def reset_password(request: Request, user_id: int, session: DbSession, user: PageUser, form: Form) -> Response:
    return _patch(request, session, user, user_id, form, "password")


@router.post("/admin/users/{user_id}/active")
def set_active(request: Request, user_id: int, session: DbSession, user: PageUser, form: Form) -> Response:
    return _patch(request, session, user, user_id, form, "active")
