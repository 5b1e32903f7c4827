from __future__ import annotations

import uuid

from django.db import models


class Attachment(models.Model):
    """One file recorded in one case, at one place of one form's data.

    The bytes live in the storage under ``key``, named by their checksum, so the same file
    sent twice is stored once; this row is what makes it reachable, and through whom: the
    case decides who may read it, ``personal`` (in or under a field its form flags
    ``x-personal``) narrows that to those who may see the case's contact data.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    # By name, not by import: the attachments sit below the cases in the layers.
    instance = models.ForeignKey(
        "flows.ProcessInstance", on_delete=models.CASCADE, related_name="attachments"
    )
    field = models.CharField(max_length=200)  # the dotted path in the form's data
    personal = models.BooleanField(default=False)
    name = models.CharField(max_length=200)
    media_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    key = models.CharField(max_length=200, db_index=True)  # the storage's name for the bytes
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("created_at", "field")

    def __str__(self) -> str:
        return f"{self.name} ({self.field})"

    def reference(self) -> dict:
        """What the case's data keeps in the file's place."""
        return {
            "file": str(self.id), "name": self.name, "type": self.media_type,
            "size": self.size, "sha256": self.sha256,
        }  # fmt: skip
