"""Console forms for the kiosk: event branding and booth camera settings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from captures import imaging
from events.models import Event


class BrandingForm(forms.ModelForm[Event]):
    """Welcome text, brand colour and logo of an event (validation only; no ``save()``)."""

    logo = forms.FileField(
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg"}),
        help_text="PNG (transparency kept) or JPEG, up to 10 MB.",
    )
    remove_logo = forms.BooleanField(required=False, label="Remove the logo")

    class Meta:
        model = Event
        fields = ["welcome_text", "brand_color"]
        widgets = {"brand_color": forms.TextInput(attrs={"type": "color"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance.logo:
            del self.fields["remove_logo"]

    def clean_logo(self) -> UploadedFile | None:
        upload: UploadedFile | None = self.cleaned_data.get("logo")
        if upload is not None and (upload.size or 0) > imaging.MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The logo is too large (max 10 MB).")
        return upload
