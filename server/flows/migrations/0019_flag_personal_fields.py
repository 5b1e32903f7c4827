"""Versions deployed before forms carried ``x-personal`` keep their forms as they were, and
their cases run on them: without a flag their personal fields would now show to every
reader of those cases. Each stored form gets the flag where the code's rule of the time
(the name list and the phone and signature widgets, frozen below) found a contact field,
on top-level fields that say nothing themselves: what was withheld stays withheld.

A version's stored ``content_hash`` stays the hash of the package as it was deployed."""

from django.db import migrations

# engine.policy.CONTACT_FIELDS and CONTACT_WIDGETS as they were (2026-12-07).
CONTACT_FIELDS = frozenset({
    "complainant", "reporter", "resident", "owner", "owner_name", "household", "phone",
    "emergency_contact", "vehicles", "documents", "contractor_phone",
})  # fmt: skip
CONTACT_WIDGETS = frozenset({"tel", "signature"})


def flagged(form):
    """``form`` with the flag on each contact field of the old rule; None if unchanged."""
    props = form.get("properties") if isinstance(form, dict) else None
    if not isinstance(props, dict):
        return None
    changed = {
        name: {**node, "x-personal": True}
        for name, node in props.items()
        if isinstance(node, dict) and "x-personal" not in node
        and (name in CONTACT_FIELDS or node.get("x-widget") in CONTACT_WIDGETS)
    }
    return {**form, "properties": {**props, **changed}} if changed else None


def forwards(apps, schema_editor):
    definitions = apps.get_model("flows", "ProcessDefinition")
    for pk, forms in definitions.objects.values_list("pk", "forms").iterator():
        new = {name: flagged(form) or form for name, form in (forms or {}).items()}
        if new != (forms or {}):
            definitions.objects.filter(pk=pk).update(forms=new)


class Migration(migrations.Migration):
    dependencies = [("flows", "0018_personal_data_reads")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
