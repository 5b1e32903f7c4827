"""Attachments: the files a form takes (photos, drawings, signatures), kept in Django's
storage and referenced from the case's data by name, type, size and checksum."""
