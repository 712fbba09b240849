from typing import Any

from django import forms

from notifications.models import Delivery, Kind


class DeliveryForm(forms.Form):
    """One choice per kind of notice: how the member is told."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in Kind:
            self.fields[kind.value] = forms.ChoiceField(
                label=kind.label, choices=Delivery.choices, widget=forms.RadioSelect
            )
