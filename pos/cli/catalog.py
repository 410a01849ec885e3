"""`pos catalog import|search|show`."""

from __future__ import annotations

import argparse
from pathlib import Path

from pos.cli.context import CliContext
from pos.cli.session import open_services
from pos.messages import msg
from pos.services.catalog_import import import_products, read_catalog_file


def cmd_import(args: argparse.Namespace, ctx: CliContext) -> int:
    with open_services(ctx) as services:
        path = Path(args.file)
        products = read_catalog_file(path, services.checkout.settings.currency)
        t = services.terminal
        result = import_products(
            t.db, t.journal, t.clock, products, replace=args.replace, source=path.name
        )
    ctx.emit(
        {
            "products": result.products,
            "deactivated": result.deactivated,
            "digest": result.digest,
            "journal_seq": result.journal_seq,
        },
        msg(
            "cli.catalog.imported_replacing" if args.replace else "cli.catalog.imported",
            products=result.products,
            file=path.name,
            deactivated=result.deactivated,
        ),
    )
    return 0


def cmd_search(args: argparse.Namespace, ctx: CliContext) -> int:
    with open_services(ctx) as services:
        found = services.checkout.search(args.text, args.limit)
    ctx.emit(
        [p.to_dict() for p in found],
        lambda: (
            "\n".join(
                f"{p.sku:<12} {p.unit_price.format():>10}  {p.name_zh}  {p.name_en}" for p in found
            )
            or msg("cli.catalog.nothing_found").render(ctx.lang)
        ),
    )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("catalog", help="clihelp.catalog.catalog")
    csub = p.add_subparsers(dest="catalog_command", required=True)
    imp = csub.add_parser("import", help="clihelp.catalog.import")
    imp.add_argument("file")
    imp.add_argument("--replace", action="store_true", help="clihelp.catalog.replace")
    imp.set_defaults(func=cmd_import)
    search = csub.add_parser("search", help="clihelp.catalog.search")
    search.add_argument("text")
    search.add_argument("--limit", type=int, default=20)
    search.set_defaults(func=cmd_search)
