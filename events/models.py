"""Tenants (Organiser), their members, events and booths."""

from __future__ import annotations

import functools
import uuid
import zoneinfo
from collections.abc import Iterable
from typing import Self, TypedDict
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils.timezone import now

from events import tokens
from events.converters import RESERVED_CONSOLE_WORDS
from events.roles import ROLE_PERMS, Perm, Role
from events.scoping import OrganiserScopedQuerySet

#: The filters a new event renders: the seed's four tints. ``events`` sits below the
#: filter registry (``captures.imaging``) and cannot import it, so the names are written
#: here once; ``tests/test_conventions.py`` checks they are ``imaging.SEED_FILTERS``.
DEFAULT_FILTERS = ("grayscale", "sepia", "green", "blue")
DEFAULT_STRIP_LAYOUTS = ("horizontal_4",)
#: Shortest and longest gallery passcode, in characters (a word guests can type).
GALLERY_PASSCODE_LENGTH = (4, 64)


def default_filters() -> list[str]:
    """Return a fresh list of ``DEFAULT_FILTERS`` (a JSONField default must be a callable)."""
    return list(DEFAULT_FILTERS)


def default_strip_layouts() -> list[str]:
    """Return a fresh list of ``DEFAULT_STRIP_LAYOUTS``."""
    return list(DEFAULT_STRIP_LAYOUTS)


#: The filter and strip layout names the renderer knows. ``captures`` registers its
#: registry's names at start-up (``register_render_names``, from ``captures.apps``);
#: until then only the defaults above are known, so an unknown name is refused either way.
_render_names: dict[str, frozenset[str]] = {
    "filters": frozenset(DEFAULT_FILTERS),
    "strip_layouts": frozenset(DEFAULT_STRIP_LAYOUTS),
}


def register_render_names(*, filters: Iterable[str], strip_layouts: Iterable[str]) -> None:
    """Tell ``Event.clean()`` which filter and strip layout names exist.

    ``captures`` calls it once at start-up with the keys of ``imaging.FILTERS`` and
    ``imaging.STRIP_LAYOUTS``: ``events`` sits below that registry and cannot import it.
    """
    _render_names["filters"] = frozenset(filters)
    _render_names["strip_layouts"] = frozenset(strip_layouts)


def known_filters() -> frozenset[str]:
    """Return the filter names an event may enable (see ``register_render_names``)."""
    return _render_names["filters"]


def known_strip_layouts() -> frozenset[str]:
    """Return the strip layout names an event may enable."""
    return _render_names["strip_layouts"]


@functools.cache
def time_zone_names() -> frozenset[str]:
    """Return the IANA time zone names an event may use ("Europe/London", "UTC", ...).

    Those of ``zoneinfo.available_timezones()`` (the system's or ``tzdata``'s), without
    the files that are not zones (``localtime``, ``posixrules``, ``Factory``).
    """
    junk = {"localtime", "posixrules", "Factory"}
    return frozenset(name for name in zoneinfo.available_timezones() if name not in junk)


def _unknown_names(value: object, known: frozenset[str], what: str) -> str | None:
    """Return why ``value`` is not a list of names from ``known``, or None if it is."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return f"Give the {what}s as a list of names."
    unknown = [item for item in value if item not in known]
    if not unknown:
        return None
    names = ", ".join(f"“{item}”" for item in unknown)
    return f"Unknown {what} {names}. Known {what}s: {', '.join(sorted(known))}."


def default_sms_countries() -> list[str]:
    return []


#: At most this many compat origins per organiser, each at most this many characters.
MAX_COMPAT_ORIGINS = 20
MAX_ORIGIN_LENGTH = 200


def default_compat_origins() -> list[str]:
    """Return a fresh empty list: no other origin may call the compat endpoint."""
    return []


def canonical_origin(text: str) -> str:
    """Return ``text`` as the origin a browser sends: ``https://booth.example.com:8443``.

    Lower-cases the scheme and host, drops a default port (80 for http, 443 for https)
    and one trailing ``/``. Raises ValidationError (with the origin in the message) for
    anything that is not ``http(s)://host[:port]``: a path, query, fragment, user name,
    wildcard or another scheme.
    """
    value = text.strip()
    error = ValidationError(
        "%(origin)s is not an origin: write scheme://host[:port] with no path, "
        "e.g. https://booth.example.com.",
        code="invalid_origin",
        params={"origin": value[:MAX_ORIGIN_LENGTH] or '""'},
    )
    if len(value) > MAX_ORIGIN_LENGTH or "*" in value or any(c.isspace() for c in value):
        raise error
    parts = urlsplit(value.removesuffix("/"))
    try:
        port = parts.port
    except ValueError:
        raise error from None
    scheme = parts.scheme.lower()
    if (
        scheme not in {"http", "https"}
        or not parts.hostname
        or parts.path
        or parts.query
        or parts.fragment
        or "?" in value
        or "#" in value
        or "@" in parts.netloc
    ):
        raise error
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    default = {"http": 80, "https": 443}[scheme]
    return f"{scheme}://{host}" + (f":{port}" if port not in {None, default} else "")


def validate_compat_origins(value: object) -> None:
    """Check that ``value`` is a list of at most MAX_COMPAT_ORIGINS canonical origins.

    Raises ValidationError naming the first bad entry (see ``canonical_origin``), or one
    written differently from what a browser sends (``https://Booth.example.com/``).
    """
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        msg = 'Enter a list of origins, e.g. ["https://booth.example.com"].'
        raise ValidationError(msg, code="invalid_origins")
    if len(value) > MAX_COMPAT_ORIGINS:
        msg = f"At most {MAX_COMPAT_ORIGINS} origins."
        raise ValidationError(msg, code="too_many_origins")
    for item in value:
        canonical = canonical_origin(item)
        if item != canonical:
            raise ValidationError(
                "Write %(origin)s as %(canonical)s, as browsers send it.",
                code="non_canonical_origin",
                params={"origin": item, "canonical": canonical},
            )


#: Words that name console pages at ``/console/<word>/``; never organiser slugs.
RESERVED_ORGANISER_SLUGS = frozenset(
    {"login", "logout", "new", "switch", "organisers", "account", "accounts", "invite"}
)


def validate_organiser_slug(value: str) -> None:
    """Refuse a slug that names a console page (``RESERVED_ORGANISER_SLUGS``)."""
    if value in RESERVED_ORGANISER_SLUGS:
        raise ValidationError(
            "“%(slug)s” names a console page; choose another.",
            code="reserved_slug",
            params={"slug": value},
        )


#: An ISO 3166-1 alpha-2 country code, upper case ("GB").
COUNTRY_CODE_VALIDATOR = RegexValidator(
    r"^[A-Z]{2}$", "Use a two-letter ISO 3166 country code, e.g. GB."
)


class Organiser(models.Model):
    """The tenant: a company or person running booths at events.

    ``country`` (ISO 3166-1 alpha-2, chosen at sign-up among the platform's
    ``BOOTHSITE_SMS_COUNTRIES``) is what a new event's allowed SMS countries default to.
    ``compat_origins`` lists the origins (``https://booth.example.com``) whose pages may
    call this organiser's booths' ``/compat/<token>/send-mms`` from a browser (CORS).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True, validators=[validate_organiser_slug])
    country = models.CharField(
        max_length=2,
        default="GB",
        validators=[COUNTRY_CODE_VALIDATOR],
        help_text="ISO 3166 country code (GB); new events text numbers of this country.",
    )
    created_at = models.DateTimeField(default=now, editable=False)
    compat_origins = models.JSONField(
        default=default_compat_origins,
        blank=True,
        validators=[validate_compat_origins],
        help_text="Origins of the seed front end's pages allowed to post to this "
        "organiser's booths' /compat/<booth token>/send-mms from a browser (CORS), e.g. "
        "https://booth.example.com. Empty: none.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MembershipQuerySet(OrganiserScopedQuerySet["Membership"]):
    pass


class Membership(models.Model):
    """A user's role in one organiser; ``public_id`` names it in the team page's forms."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organiser = models.ForeignKey(Organiser, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(default=now, editable=False)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organiser"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organiser} ({self.role})"

    def allows(self, perm: Perm) -> bool:
        """Return whether this member's role grants ``perm``."""
        return perm in ROLE_PERMS.get(self.role, frozenset())


class EventQuerySet(OrganiserScopedQuerySet["Event"]):
    pass


class Event(models.Model):
    """One event (a wedding, a party) where an organiser's booths take photos."""

    class GalleryVisibility(models.TextChoices):
        LINK = "link", "Anyone with the private link"
        PASSCODE = "passcode", "Private link and passcode"
        OFF = "off", "Off"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organiser = models.ForeignKey(Organiser, on_delete=models.CASCADE, related_name="events")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60)
    starts_at = models.DateTimeField(default=now)
    ends_at = models.DateTimeField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    gallery_token = models.CharField(max_length=64, unique=True, default=tokens.link_token)
    gallery_visibility = models.CharField(
        max_length=10, choices=GalleryVisibility.choices, default=GalleryVisibility.LINK
    )
    # A Django password hash (make_password) of the guests' passcode; never the passcode.
    gallery_passcode_hash = models.CharField(max_length=128, blank=True, editable=False)
    smile_threshold = models.FloatField(
        default=0.5, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)]
    )
    auto_snap = models.BooleanField(
        default=True, help_text="Booths snap by themselves when the guest smiles."
    )
    brand_color = models.CharField(
        max_length=7,
        default="#d6336c",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a colour like #d6336c.")],
    )
    welcome_text = models.CharField(max_length=120, default="Smile!", blank=True)
    # Written only by captures.services.update_branding (decoded, re-encoded, random key).
    logo = models.FileField(max_length=200, blank=True, editable=False)
    countdown_seconds = models.PositiveSmallIntegerField(
        default=5, validators=[MaxValueValidator(30)]
    )
    captures_per_session = models.PositiveSmallIntegerField(
        default=4, validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    filters = models.JSONField(
        default=default_filters, blank=True, help_text="Names of the filters to render."
    )
    strip_layouts = models.JSONField(default=default_strip_layouts, blank=True)
    strip_filter = models.CharField(
        max_length=32, blank=True, help_text="Filter for the strips; empty means the originals."
    )
    # Camera-style adjustments applied before the filters (1.0 leaves the photo as taken).
    brightness = models.FloatField(
        default=1.0, validators=[MinValueValidator(0.0), MaxValueValidator(2.0)]
    )
    contrast = models.FloatField(
        default=1.0, validators=[MinValueValidator(0.0), MaxValueValidator(2.0)]
    )
    saturation = models.FloatField(
        default=1.0, validators=[MinValueValidator(0.0), MaxValueValidator(2.0)]
    )
    sms_template = models.TextField(
        blank=True, help_text="Optional SMS text; {link} is replaced by the guest's link."
    )
    sms_allowed_countries = models.JSONField(
        default=default_sms_countries,
        blank=True,
        help_text="ISO country codes; empty means the platform's list.",
    )
    retention_days = models.PositiveSmallIntegerField(
        default=30, help_text="Days after the event before guests' phone numbers are erased."
    )
    retention_purges_photos = models.BooleanField(
        default=False, help_text="Also delete the photos when the retention period ends."
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    # The gallery link's lifecycle (issue 14.4): past ``gallery_expires_at``, or once
    # revoked, the link answers 410 until the organiser makes a new one.
    gallery_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="After this the gallery link answers “gone”."
    )
    gallery_revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    guest_download = models.BooleanField(
        default=False, help_text="Guests may download the whole event as one ZIP."
    )
    # The share email (issue 14.5): subject and text; {link} is the guest's link.
    email_subject = models.CharField(max_length=200, blank=True)
    email_template = models.TextField(
        blank=True, help_text="Optional email text; {link} is replaced by the guest's link."
    )
    created_at = models.DateTimeField(default=now, editable=False)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["organiser", "slug"], name="event_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    def gallery_path(self) -> str:
        return reverse("captures:gallery", args=[self.gallery_token])

    def gallery_url(self) -> str:
        return f"{settings.SITE_URL}{self.gallery_path()}"

    @property
    def gallery_enabled(self) -> bool:
        return self.gallery_visibility != self.GalleryVisibility.OFF and self.archived_at is None

    def set_gallery_passcode(self, passcode: str) -> None:
        """Store ``passcode`` as a password hash (not saved; see events.services).

        ``passcode`` is stripped; it must be ``GALLERY_PASSCODE_LENGTH`` (4 to 64)
        characters, else ValidationError on ``gallery_passcode``. An empty one clears
        the passcode.
        """
        passcode = passcode.strip()
        if not passcode:
            self.gallery_passcode_hash = ""
            return
        low, high = GALLERY_PASSCODE_LENGTH
        if not low <= len(passcode) <= high:
            msg = f"Use a passcode of {low} to {high} characters."
            raise ValidationError({"gallery_passcode": msg})
        self.gallery_passcode_hash = make_password(passcode)

    def check_gallery_passcode(self, passcode: str) -> bool:
        """Return whether ``passcode`` is the gallery's passcode (False when none is set).

        Compared with Django's ``check_password`` (constant time); a hash made with an
        older hasher is upgraded in place.
        """
        if not self.gallery_passcode_hash:
            return False

        def upgrade(raw: str) -> None:
            self.gallery_passcode_hash = make_password(raw)
            Event.objects.filter(pk=self.pk).update(
                gallery_passcode_hash=self.gallery_passcode_hash
            )

        return check_password(passcode.strip(), self.gallery_passcode_hash, setter=upgrade)

    def clean(self) -> None:
        """Refuse bad settings, a passcode gallery without a passcode, and moving a used event.

        Raises ValidationError naming the field: ``slug`` for a word that names a console
        page (``RESERVED_CONSOLE_WORDS``), ``ends_at`` for an end before the start,
        ``timezone`` for a name outside ``time_zone_names()``, ``filters``,
        ``strip_layouts`` and ``strip_filter`` for a name the renderer does not know
        (``known_filters()``, ``known_strip_layouts()``), ``gallery_visibility`` when it
        is "passcode" and no passcode is set, and ``organiser`` when the event already
        has booths or sessions and would move to another organiser (they would point
        across tenants).
        """
        super().clean()
        errors = self._settings_errors()
        if errors:
            raise ValidationError(errors)
        if self.gallery_visibility == self.GalleryVisibility.PASSCODE and not (
            self.gallery_passcode_hash
        ):
            raise ValidationError(
                {"gallery_visibility": "Set a passcode for a gallery that needs one."}
            )
        if self._state.adding or not self.organiser_id:
            return
        stored = Event.objects.filter(pk=self.pk).values_list("organiser_id", flat=True).first()
        moved = stored is not None and stored != self.organiser_id
        if moved and (self.booths.exists() or self.sessions.exists()):
            msg = "This event has booths or sessions; it cannot move to another organiser."
            raise ValidationError({"organiser": msg})

    def _settings_errors(self) -> dict[str, str]:
        """Return the settings ``clean()`` refuses, as ``{field: message}``."""
        errors: dict[str, str] = {}
        if self.slug in RESERVED_CONSOLE_WORDS:
            errors["slug"] = f"“{self.slug}” names a console page; choose another slug."
        starts, ends = getattr(self, "starts_at", None), self.ends_at  # None: not cleaned
        if starts is not None and ends is not None and ends <= starts:
            errors["ends_at"] = "The event must end after it starts."
        if self.timezone not in time_zone_names():
            errors["timezone"] = (
                f"Unknown time zone “{self.timezone}”: choose one such as Europe/London."
            )
        for field, known, what in (
            ("filters", known_filters(), "filter"),
            ("strip_layouts", known_strip_layouts(), "strip layout"),
        ):
            problem = _unknown_names(getattr(self, field), known, what)
            if problem:
                errors[field] = problem
        if self.strip_filter and self.strip_filter not in known_filters():
            errors["strip_filter"] = (
                f"Unknown filter “{self.strip_filter}”: leave it empty for the original "
                "photos, or choose one of " + ", ".join(sorted(known_filters())) + "."
            )
        return errors


class CameraSettings(TypedDict):
    """A booth's camera settings as the kiosk applies them (``me/`` and live pushes)."""

    width: int
    height: int
    mirror: bool
    brightness: float | None
    contrast: float | None
    zoom: float | None


class BoothQuerySet(OrganiserScopedQuerySet["Booth"]):
    def usable(self) -> Self:
        return self.filter(revoked_at__isnull=True)


class Booth(models.Model):
    """A kiosk (a browser with a webcam) owned by an organiser, serving one event at a time.

    The API token (``bth_…``) is shown once; only its 8-character lookup prefix and its
    SHA-256 are stored. A one-time pairing code lets a kiosk fetch a fresh token.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organiser = models.ForeignKey(Organiser, on_delete=models.CASCADE, related_name="booths")
    name = models.CharField(max_length=200)
    current_event = models.ForeignKey(
        Event, on_delete=models.SET_NULL, null=True, blank=True, related_name="booths"
    )
    token_prefix = models.CharField(max_length=8, blank=True, db_index=True, editable=False)
    token_hash = models.CharField(max_length=64, blank=True, editable=False)
    pairing_code_hash = models.CharField(max_length=64, blank=True, editable=False)
    pairing_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)
    # Camera settings the kiosk applies (getUserMedia and applyConstraints, if supported).
    camera_width = models.PositiveSmallIntegerField(default=1280)
    camera_height = models.PositiveSmallIntegerField(default=720)
    camera_mirror = models.BooleanField(default=True, help_text="Show the preview mirrored.")
    camera_brightness = models.FloatField(null=True, blank=True)
    camera_contrast = models.FloatField(null=True, blank=True)
    camera_zoom = models.FloatField(null=True, blank=True)

    objects = BoothQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def clean(self) -> None:
        """Refuse a current event of another organiser, and moving a booth with sessions.

        Raises ValidationError on ``current_event`` when that event's organiser is not
        the booth's (RELIABILITY 33), and on ``organiser`` when a booth that has already
        opened sessions would move to another organiser.
        """
        super().clean()
        if not self.organiser_id:
            return
        if self.current_event_id is not None:
            event_organiser = (
                Event.objects.filter(pk=self.current_event_id)
                .values_list("organiser_id", flat=True)
                .first()
            )
            if event_organiser != self.organiser_id:
                raise ValidationError(
                    {"current_event": "Choose an event of the booth's own organiser."}
                )
        if not self._state.adding:
            stored = Booth.objects.filter(pk=self.pk).values_list("organiser_id", flat=True).first()
            if stored is not None and stored != self.organiser_id and self.sessions.exists():
                raise ValidationError(
                    {"organiser": "This booth has sessions; it cannot move to another organiser."}
                )

    #: The fields the organiser sets on the booth's camera page (``camera_settings``).
    CAMERA_FIELDS = (
        "camera_width",
        "camera_height",
        "camera_mirror",
        "camera_brightness",
        "camera_contrast",
        "camera_zoom",
    )

    def camera_settings(self) -> CameraSettings:
        """Return the camera settings in the shape the kiosk reads."""
        return {
            "width": self.camera_width,
            "height": self.camera_height,
            "mirror": self.camera_mirror,
            "brightness": self.camera_brightness,
            "contrast": self.camera_contrast,
            "zoom": self.camera_zoom,
        }


class IdempotencyKey(models.Model):
    """A booth's ``Idempotency-Key`` and the first answer it got (RELIABILITY 10).

    The booth API's ``captures/``, ``finish/`` and ``share/sms/`` store one row per key
    and booth (``events.idempotency``): the route, a keyed hash of the request (method,
    path and parsed body; no phone number is stored), and, once the first request has
    answered, its status and rendered JSON body. ``response_status`` is null while the
    first request is still running. Rows older than ``BOOTHSITE_IDEMPOTENCY_TTL_SECONDS``
    are expired and removed when the booth next writes a key.
    """

    booth = models.ForeignKey(Booth, on_delete=models.CASCADE, related_name="idempotency_keys")
    key = models.CharField(max_length=255)
    route = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["booth", "key"], name="idempotency_key_per_booth"),
        ]
        indexes = [models.Index(fields=["booth", "created_at"], name="idempotency_booth_created")]

    def __str__(self) -> str:
        return f"{self.route} {self.key}"


class InvitationQuerySet(OrganiserScopedQuerySet["Invitation"]):
    def pending(self) -> Self:
        """Invitations not yet accepted nor cancelled (expired ones included)."""
        return self.filter(accepted_at__isnull=True, cancelled_at__isnull=True)


class Invitation(models.Model):
    """An invitation to join an organiser's team with a role, sent by email.

    The link carries a random token (``inv_…``, 128 bits); only its SHA-256 is stored.
    It works once (``accepted_at``), until ``expires_at``, and not after the owner
    cancels it (``cancelled_at``). Sending it again replaces the token: the old link
    stops working.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organiser = models.ForeignKey(Organiser, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=now, editable=False)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organiser", "created_at"], name="invitation_org_created")]

    def __str__(self) -> str:
        return f"{self.email} to {self.organiser} ({self.role})"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= now()

    @property
    def is_usable(self) -> bool:
        """Whether the link still works: not accepted, not cancelled, not expired."""
        return self.accepted_at is None and self.cancelled_at is None and not self.is_expired


class RetiredLink(models.Model):
    """A guest link that worked once: its SHA-256, so that it answers 410, not 404.

    ``kind`` says which link (an event's gallery or a session's share page); only the
    token's hash is kept (``tokens.hash_secret``). A wrong token that never worked still
    answers the same 404 as a missing one.
    """

    class Kind(models.TextChoices):
        GALLERY = "gallery", "Gallery link"
        SHARE = "share", "Share link"

    class Reason(models.TextChoices):
        ROTATED = "rotated", "Replaced by a new link"
        REVOKED = "revoked", "Revoked"
        EXPIRED = "expired", "Expired"
        RETENTION = "retention", "Past the event's retention"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="retired_links")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=10, choices=Reason.choices)
    retired_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-retired_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} retired ({self.reason})"


class ApiTokenQuerySet(OrganiserScopedQuerySet["ApiToken"]):
    def usable(self) -> Self:
        """Tokens not revoked."""
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """An organiser API token (``bsk_…``), created by an owner, shown once (issue 15.1).

    Only its 8-character lookup prefix and its SHA-256 are stored (``tokens``). It acts
    for ``user`` in ``organiser`` with ``role`` at most: a request made with it has the
    lower of ``role`` and the user's current membership role, and none once the user
    has left the team. ``last_used_at`` is written at most once a minute.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organiser = models.ForeignKey(Organiser, on_delete=models.CASCADE, related_name="api_tokens")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. “CRM sync”.")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MANAGER)
    token_prefix = models.CharField(max_length=8, db_index=True, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.token_prefix}…)"


class WebhookEndpointQuerySet(OrganiserScopedQuerySet["WebhookEndpoint"]):
    def enabled(self) -> Self:
        """Endpoints not disabled."""
        return self.filter(disabled_at__isnull=True)


class WebhookEndpoint(models.Model):
    """A URL an organiser registered to receive signed webhook deliveries (issue 15.3).

    ``event_types`` lists the types it receives (``capture.ready``, ``session.finished``,
    ``strip.ready``, ``sms.status``). ``secret`` is the Standard Webhooks signing secret
    (``whsec_`` + base64), kept in clear because signing needs it. After repeated
    failures the endpoint is disabled (``disabled_at``, ``disabled_reason``) and its
    owners are emailed; ``consecutive_failures`` counts failed deliveries since the last
    success.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organiser = models.ForeignKey(Organiser, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list)
    secret = models.CharField(max_length=100, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=now, editable=False)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)

    objects = WebhookEndpointQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.url


class WebhookDeliveryQuerySet(OrganiserScopedQuerySet["WebhookDelivery"]):
    pass


class WebhookDelivery(models.Model):
    """One message to one endpoint, and its latest attempt (issue 15.3).

    ``message_id`` is the Standard Webhooks ``webhook-id`` (``msg_…``), the same on
    every retry so that receivers can deduplicate. ``payload`` is the JSON body sent.
    ``attempts`` counts the tries; ``response_status`` and ``response_ms`` are the last
    try's (null when no response came, then ``error`` says why, without secrets).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed, will retry"
        GAVE_UP = "gave_up", "Gave up"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    organiser = models.ForeignKey(Organiser, on_delete=models.CASCADE, related_name="+")
    message_id = models.CharField(max_length=64, unique=True, editable=False)
    event_type = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_endpoint"),
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.message_id}"
