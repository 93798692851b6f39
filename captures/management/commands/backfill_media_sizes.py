"""Fill in the stored file sizes of rows written before sizes were recorded.

ZIP downloads take their exact length from ``size_bytes`` (and ``gif_size_bytes``) on
the rows; a row with 0 costs the ZIP one storage ``size()`` call. This command asks
storage once per such file, in batches, and saves the sizes. Safe to run again, and
while booths are taking photos.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from captures import archive


class Command(BaseCommand):
    help = "Record the size of every stored photo, variant and strip whose row has none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help="Rows read and saved per query (default 500).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size = options["batch_size"]
        if batch_size < 1:
            msg = "--batch-size must be at least 1."
            raise CommandError(msg)
        done = archive.backfill_sizes(batch_size=batch_size)
        parts = ", ".join(f"{count} {kind}" for kind, count in done.filled.items())
        self.stdout.write(f"Sizes filled in: {parts}.")
        if done.missing:
            self.stdout.write(
                f"{done.missing} file(s) are missing from storage and keep no size; "
                "ZIPs leave them out."
            )
