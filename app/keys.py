"""Manage API keys: `python -m app.keys create NAME [--role ROLE] [--as EMAIL]`, `list`, `revoke`.

A key made `--as EMAIL` is bound to that person: it takes their role and every action it takes
through the API must name them (`verifiedBy`, `flaggedBy`, `createdBy`, `recordedBy`,
`reviewedBy`). A key without `--as` names any person, as long as both roles allow the action.
Creating and revoking are audited as `cli:<login>`, the operating-system login that ran this.
"""

import argparse
import getpass
import sys

from core.accounts import service
from core.accounts.schemas import Actor
from core.base import Role
from core.db import session_scope
from core.errors import DomainError


def main(argv: list[str] | None = None) -> int:
    """Run the keys command line."""
    parser = argparse.ArgumentParser(
        prog="python -m app.keys",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create a key and print it once")
    create.add_argument("name")
    create.add_argument(
        "--role",
        choices=[r.value for r in Role],
        help="the key's role (default: the person's role with --as, else admin)",
    )
    create.add_argument(
        "--as",
        dest="user_email",
        metavar="EMAIL",
        help="bind the key to this active person: it can act only as them",
    )
    sub.add_parser("list", help="list keys (never the secret)")
    revoke = sub.add_parser("revoke", help="revoke a key by id or prefix")
    revoke.add_argument("key")
    args = parser.parse_args(argv)
    actor = Actor(label=f"cli:{_login()}")
    try:
        with session_scope() as session:
            if args.command == "create":
                key, token = service.create_api_key(
                    session=session,
                    name=args.name,
                    role=args.role,
                    user_email=args.user_email,
                    actor=actor,
                )
                print(token)
                bound = f", acting only as {args.user_email.strip()}" if key.user_id else ""
                print(
                    f"Key '{key.name}' (role {key.role}{bound}) created; it is shown only now.",
                    file=sys.stderr,
                )
            elif args.command == "list":
                for view in service.list_api_keys(session=session):
                    state = "revoked" if view.revoked else "active"
                    acts_as = f"as {view.user_email}" if view.user_email else "unbound"
                    print(
                        f"{view.prefix}…  {view.name}  {view.role}  {acts_as}  {state}  {view.id}"
                    )
            else:
                key = service.revoke_api_key(session=session, key_id=args.key, actor=actor)
                print(f"Revoked '{key.name}'; it no longer works.")
    except DomainError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


def _login() -> str:
    """Return who runs the command, as the operating system knows them."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in the environment or the password database
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
