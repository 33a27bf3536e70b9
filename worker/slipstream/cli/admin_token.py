"""`slipstream admin-token`: mint a management API token from the stack's signing-key secret.

Minting needs the server code (`slipstream.auth`), which the worker image does not ship, and read
access to the secret. It targets the running local stack unless SLIPSTREAM_API_URL or `--api-url`
names another stack; then the secret is read from AWS (SLIPSTREAM_SIGNING_KEY_SECRET names it).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from slipstream.cli._api import CommandError, add_target_arguments, command, local_stack, targets_local


def register(commands: Any) -> None:
    parser = commands.add_parser("admin-token", help="mint an admin token for the management API")
    parser.add_argument(
        "--ttl", type=int, metavar="SECONDS", help="lifetime (default: SLIPSTREAM_ADMIN_TOKEN_TTL)"
    )
    parser.add_argument("--subject", default="slipstream-cli", help="`sub` of the token (who it is for)")
    add_target_arguments(parser)
    parser.set_defaults(handler=_mint)


@command
def _mint(args: argparse.Namespace) -> int:
    local = local_stack() if targets_local(args) else None
    if local is not None:
        from slipstream.local.moto import use_offline_credentials

        os.environ.update(
            {"AWS_ENDPOINT_URL": local["aws_endpoint_url"], "AWS_DEFAULT_REGION": local["region"]}
        )
        use_offline_credentials()
    try:
        from slipstream.auth.tokens import mint_admin_token
    except ImportError as exc:
        raise CommandError(f"admin-token needs the server code, not installed here ({exc})") from None
    print(mint_admin_token(args.subject, ttl=args.ttl))
    return 0
