from __future__ import annotations

from django.urls import path

from messaging import views

app_name = "messaging"

urlpatterns = [
    path("hooks/sms/dlr/<str:callback_token>/", views.delivery_receipt, name="dlr"),
]
