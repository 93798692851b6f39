"""Console forms for the kiosk: event branding and booth camera settings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from captures import imaging
from events.models import Booth, Event


class BrandingForm(forms.ModelForm[Event]):
    """Welcome text, brand colour and logo of an event (validation only; no ``save()``)."""

    logo = forms.FileField(
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg"}),
        help_text=f"PNG (transparency kept) or JPEG, up to {imaging.MAX_UPLOAD_BYTES >> 20} MB.",
    )
    remove_logo = forms.BooleanField(required=False, label="Remove the logo")

    class Meta:
        model = Event
        fields = ["welcome_text", "brand_color"]
        widgets = {"brand_color": forms.TextInput(attrs={"type": "color"})}
        labels = {"brand_color": "Brand colour"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance.logo:
            del self.fields["remove_logo"]

    def clean_logo(self) -> UploadedFile | None:
        upload: UploadedFile | None = self.cleaned_data.get("logo")
        if upload is not None and (upload.size or 0) > imaging.MAX_UPLOAD_BYTES:
            msg = f"The logo is too large (max {imaging.MAX_UPLOAD_BYTES >> 20} MB)."
            raise forms.ValidationError(msg)
        return upload


class CameraForm(forms.ModelForm[Booth]):
    """A booth's camera settings (validation only; the view calls the service)."""

    camera_width = forms.IntegerField(label="Width (px)", min_value=160, max_value=3840)
    camera_height = forms.IntegerField(label="Height (px)", min_value=120, max_value=2160)
    camera_mirror = forms.BooleanField(required=False, label="Mirror the preview")
    camera_brightness = forms.FloatField(required=False, label="Brightness")
    camera_contrast = forms.FloatField(required=False, label="Contrast")
    camera_zoom = forms.FloatField(required=False, label="Zoom", min_value=0.0)

    class Meta:
        model = Booth
        fields = list(Booth.CAMERA_FIELDS)
