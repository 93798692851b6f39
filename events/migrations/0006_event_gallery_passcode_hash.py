# Store gallery passcodes as password hashes (issue 11.10): add the hash, hash every
# existing plain passcode, then drop the plain column.

from django.contrib.auth.hashers import make_password
from django.db import migrations, models


def hash_passcodes(apps, schema_editor):
    Event = apps.get_model("events", "Event")
    for event in Event.objects.exclude(gallery_passcode="").only("pk", "gallery_passcode"):
        passcode = event.gallery_passcode.strip()
        if passcode:
            Event.objects.filter(pk=event.pk).update(gallery_passcode_hash=make_password(passcode))


def cannot_unhash(apps, schema_editor):
    # A hash cannot give the passcode back: going back leaves passcodes empty, and the
    # organiser sets them again.
    pass


class Migration(migrations.Migration):

    dependencies = [
        ("events", "0005_event_logo"),
    ]

    operations = [
        migrations.AddField(
            model_name="event",
            name="gallery_passcode_hash",
            field=models.CharField(blank=True, editable=False, max_length=128),
        ),
        migrations.RunPython(hash_passcodes, cannot_unhash, elidable=False),
        migrations.RemoveField(
            model_name="event",
            name="gallery_passcode",
        ),
    ]
