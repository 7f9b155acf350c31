"""Set people up from the command line: `python -m app.users add EMAIL --name NAME --role ROLE`.

The way in for the first admin of a new installation signing in with single sign-on (an empty
database has nobody to add them); after that, admins invite people on the People page or through
`PUT /api/users/{email}`. `list` prints everyone. Changes are audited as `cli:<login>`.
"""

import argparse
import sys

from pydantic import ValidationError

from app.keys import _login
from core.accounts.people import save_user
from core.accounts.queries import user_views
from core.accounts.schemas import Actor, UserIn
from core.base import Role
from core.db import session_scope
from core.errors import DomainError


def main(argv: list[str] | None = None) -> int:
    """Run the people command line."""
    parser = argparse.ArgumentParser(
        prog="python -m app.users",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="add a person (or change the one with this email)")
    add.add_argument("email")
    add.add_argument("--name", required=True)
    add.add_argument("--role", choices=[r.value for r in Role], default=Role.ADMIN.value)
    add.add_argument("--title")
    sub.add_parser("list", help="list everyone who can sign in, and who no longer can")
    args = parser.parse_args(argv)
    actor = Actor(label=f"cli:{_login()}")
    try:
        with session_scope() as session:
            if args.command == "add":
                body = UserIn(name=args.name, role=args.role, title=args.title)
                person, added = save_user(session=session, email=args.email, body=body, actor=actor)
                done = "Added" if added else "Updated"
                print(f"{done} {person.name} <{person.email}> as {person.role.value}.")
            else:
                for person in user_views(session=session, status="all"):
                    state = "active" if person.active else "deactivated"
                    print(f"{person.email}  {person.name}  {person.role.value}  {state}")
    except ValidationError as exc:
        for error in exc.errors():
            print(f"{error['loc'][0]}: {error['msg']}", file=sys.stderr)
        return 2
    except DomainError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
