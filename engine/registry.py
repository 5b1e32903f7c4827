"""Process packages: discovery, loading and what gets deployed.

A package is one folder, ``processes/<key>/``, that holds everything the process
needs, so it can be copied, uploaded or downloaded as one thing::

    process.toml        the manifest (names the BPMN file and the start form)
    <key>.bpmn          the diagram
    forms/<name>.json   the JSON Schema forms its start event and user tasks name

Loading reads files only; :mod:`engine.validation` judges what was read.
A :class:`ProcessSource` is the unit of deployment: everything needed to run
the process, forms included, so a running instance keeps the forms of its
version. It records no path, so its content hash is the same wherever the
folder sits.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

from lxml import etree

from .text import pick

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
FORM_PROPERTIES = ("formJsonSchemaFilename", "formUiSchemaFilename")
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
FORMS_FOLDER = "forms"  # inside the package


@dataclass(frozen=True)
class ProcessSource:
    key: str
    process_id: str
    names: dict[str, str]
    lanes: dict[str, str]  # lane name in the BPMN -> role key
    start_form: str | None
    start_roles: list[str]  # roles that may start an instance
    business_key: str  # the start-form field that names what the case is about (a unit)
    bpmn_name: str
    bpmn: str
    forms: dict[str, object] = field(default_factory=dict)  # file name -> parsed JSON
    glossary: dict[str, str] = field(default_factory=dict)  # element id -> English name
    load_problems: tuple[str, ...] = ()

    @cached_property  # computed once per source: Engine.compiled() asks on every step
    def content_hash(self) -> str:
        body = asdict(self)
        body.pop("load_problems")
        canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def manifest(self) -> dict:
        return {
            "key": self.key, "process_id": self.process_id, "names": self.names,
            "lanes": self.lanes, "start_form": self.start_form, "start_roles": self.start_roles,
            "business_key": self.business_key, "bpmn_name": self.bpmn_name,
            "glossary": self.glossary,
        }  # fmt: skip

    @classmethod
    def from_stored(cls, manifest: dict, bpmn: str, forms: dict) -> ProcessSource:
        return cls(bpmn=bpmn, forms=forms, **manifest)

    def name(self, language: str) -> str:
        return pick(self.names, language, self.key)


def referenced_forms(bpmn: str) -> set[str]:
    """Every form file the BPMN's spiff properties name."""
    try:
        root = etree.fromstring(bpmn.encode())
    except etree.XMLSyntaxError:
        return set()
    found = set()
    for prop in root.iter(f"{{{SPIFF_NS}}}property"):
        if prop.get("name") in FORM_PROPERTIES and prop.get("value"):
            found.add(prop.get("value"))
    return found


def is_form_name(name: str) -> bool:
    """A form is named by its file name alone: a path could reach outside the package."""
    return bool(name) and name not in (".", "..") and not any(c in name for c in "/\\")


def _read_json(path: Path, problems: list[str]):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        problems.append(f"{FORMS_FOLDER}/{path.name}: cannot be read as JSON ({err})")
        return None


def load_package(folder: Path) -> ProcessSource:
    """Read one package; what cannot be read is recorded in ``load_problems``."""
    problems: list[str] = []
    try:
        manifest = tomllib.loads((folder / "process.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        problems.append(f"process.toml: {err}")
        manifest = {}
    bpmn_name = manifest.get("bpmn", f"{folder.name}.bpmn")
    try:
        bpmn = (folder / bpmn_name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        problems.append(f"{bpmn_name}: {err}")
        bpmn = ""
    start_form = manifest.get("start_form")
    forms_dir = folder / FORMS_FOLDER
    forms = {}  # a name that is missing or not a file name is left out; validation says which
    for name in sorted(referenced_forms(bpmn) | ({start_form} if start_form else set())):
        if is_form_name(name) and (forms_dir / name).is_file():
            forms[name] = _read_json(forms_dir / name, problems)
    return ProcessSource(
        key=manifest.get("key", folder.name),
        process_id=manifest.get("process_id", manifest.get("key", folder.name)),
        names={k: str(v) for k, v in manifest.get("name", {}).items()},
        lanes={str(k): str(v) for k, v in manifest.get("lanes", {}).items()},
        start_form=start_form,
        start_roles=[str(r) for r in manifest.get("start_roles", [])],
        business_key=str(manifest.get("business_key", "unit")),
        bpmn_name=bpmn_name,
        bpmn=bpmn,
        forms=forms,
        glossary={str(k): str(v) for k, v in manifest.get("en", {}).items()},
        load_problems=tuple(problems),
    )


def discover(processes_dir: Path) -> list[ProcessSource]:
    """Every package under ``processes_dir`` (a folder with a ``process.toml``), in key order."""
    folders = sorted(p.parent for p in Path(processes_dir).glob("*/process.toml"))
    return [load_package(folder) for folder in folders]
