# The booth API's Idempotency-Key records (issue 11.12, RELIABILITY 10).
#
# Written by hand. It follows 0006_event_gallery_passcode_hash (issue 11.10, written at
# the same time from 0005_event_logo) so the app keeps one leaf node.

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("events", "0006_event_gallery_passcode_hash"),
    ]

    operations = [
        migrations.CreateModel(
            name="IdempotencyKey",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.CharField(max_length=255)),
                ("route", models.CharField(max_length=100)),
                ("request_hash", models.CharField(max_length=64)),
                ("response_status", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("response_body", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("completed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "booth",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="idempotency_keys",
                        to="events.booth",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["booth", "created_at"], name="idempotency_booth_created")
                ],
                "constraints": [
                    models.UniqueConstraint(fields=("booth", "key"), name="idempotency_key_per_booth")
                ],
            },
        ),
    ]
