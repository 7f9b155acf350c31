"""Manage API keys: `python -m app.keys create NAME [--role ROLE]`, `list`, `revoke ID`."""

import argparse
import sys

from core.accounts import service
from core.base import Role
from core.db import session_scope
from core.errors import DomainError


def main(argv: list[str] | None = None) -> int:
    """Run the keys command line."""
    parser = argparse.ArgumentParser(prog="python -m app.keys", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create a key and print it once")
    create.add_argument("name")
    create.add_argument("--role", default=Role.ADMIN.value, choices=[r.value for r in Role])
    sub.add_parser("list", help="list keys (never the secret)")
    revoke = sub.add_parser("revoke", help="revoke a key by id or prefix")
    revoke.add_argument("key")
    args = parser.parse_args(argv)
    try:
        with session_scope() as session:
            if args.command == "create":
                key, token = service.create_api_key(session=session, name=args.name, role=args.role)
                print(token)
                print(
                    f"Key '{key.name}' (role {key.role}) created; it is shown only now.",
                    file=sys.stderr,
                )
            elif args.command == "list":
                for key in service.list_api_keys(session=session):
                    state = "revoked" if key.revoked else "active"
                    print(f"{key.prefix}…  {key.name}  {key.role}  {state}  {key.id}")
            else:
                key = service.revoke_api_key(session=session, key_id=args.key)
                print(f"Revoked '{key.name}'.")
    except DomainError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
