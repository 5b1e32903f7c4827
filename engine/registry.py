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
import io
import json
import re
import tomllib
import zipfile
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

from lxml import etree

from .text import pick

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NAMESPACES = ("http://camunda.org/schema/1.0/bpmn", "http://activiti.org/bpmn",
                      "http://flowable.org/bpmn")  # fmt: skip
FORM_PROPERTIES = ("formJsonSchemaFilename", "formUiSchemaFilename")
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
FORMS_FOLDER = "forms"  # inside the package
REHEARSALS_FOLDER = "rehearsals"
OPTIONAL = ("files", "default_role", "form_keys", "operations", "rehearsals", "instructions_en")


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
    # What packages drawn elsewhere need (empty for the shipped ones, and then left out of
    # the hash, so adding these fields changed no deployed version's hash):
    files: dict[str, str] = field(default_factory=dict)  # other .bpmn and .dmn files
    default_role: str | None = None  # for a human task in no mapped lane or group
    form_keys: dict[str, str] = field(default_factory=dict)  # camunda:formKey -> form file
    operations: dict[str, str] = field(default_factory=dict)  # service task -> operation
    rehearsals: dict[str, object] = field(default_factory=dict)  # name -> script, replayed
    # A human task's instructions in English (the diagram's instructionsForEndUser are
    # Chinese): element id -> text, for the English interface.
    instructions_en: dict[str, str] = field(default_factory=dict)
    load_problems: tuple[str, ...] = ()

    @cached_property  # computed once per source: Engine.compiled() asks on every step
    def content_hash(self) -> str:
        body = asdict(self)
        body.pop("load_problems")
        for name in OPTIONAL:
            if not body[name]:
                body.pop(name)
        canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def manifest(self) -> dict:
        """What the definition row's manifest column holds (the files are stored apart)."""
        return {
            "key": self.key, "process_id": self.process_id, "names": self.names,
            "lanes": self.lanes, "start_form": self.start_form, "start_roles": self.start_roles,
            "business_key": self.business_key, "bpmn_name": self.bpmn_name,
            "glossary": self.glossary,
            **{name: getattr(self, name) for name in OPTIONAL[1:] if getattr(self, name)},
        }  # fmt: skip

    @classmethod
    def from_stored(
        cls, manifest: dict, bpmn: str, forms: dict, files: dict | None = None
    ) -> ProcessSource:
        return cls(bpmn=bpmn, forms=forms, files=files or {}, **manifest)

    def name(self, language: str) -> str:
        return pick(self.names, language, self.key)

    def instructions(self, element: str, chinese: str, language: str) -> str:
        """A human task's instructions in ``language`` (the diagram's are Chinese)."""
        return pick([chinese, self.instructions_en.get(element, "")], language)


def referenced_forms(bpmn: str) -> set[str]:
    """Every form file the BPMN's spiff properties name."""
    try:
        root = etree.fromstring(bpmn.encode())
    except (etree.XMLSyntaxError, ValueError):
        return set()
    found = set()
    for prop in root.iter(f"{{{SPIFF_NS}}}property"):
        if prop.get("name") in FORM_PROPERTIES and prop.get("value"):
            found.add(prop.get("value"))
    return found


def is_form_name(name: str) -> bool:
    """A form is named by its file name alone: a path could reach outside the package."""
    return bool(name) and name not in (".", "..") and not any(c in name for c in "/\\")


def load_package(folder: Path) -> ProcessSource:
    """Read one package folder; what cannot be read is recorded in ``load_problems``.

    The shipped packages' forms are the ones their diagrams and manifest name; every
    other file a package may hold (more BPMN, DMN, rehearsals) is read too."""
    files: dict[str, bytes] = {}
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file() and not any(part.startswith(".") for part in path.parts):
            files[path.relative_to(folder).as_posix()] = path.read_bytes()
    return load_files(files, default_key=Path(folder).name, all_forms=False)


def discover(processes_dir: Path) -> list[ProcessSource]:
    """Every package under ``processes_dir`` (a folder with a ``process.toml``), in key order."""
    folders = sorted(p.parent for p in Path(processes_dir).glob("*/process.toml"))
    return [load_package(folder) for folder in folders]


# -- a package from its files (a folder, an upload, a zip) -----------------------------------

MAX_FILES, MAX_FILE_BYTES, MAX_PACKAGE_BYTES = 200, 5_000_000, 20_000_000


def unzip(data: bytes, problems: list[str]) -> dict[str, bytes]:
    """A zip's files by name; a single top folder (as zipping a folder makes) is dropped.
    Bounded in count and size before anything is read, so a zip bomb is a problem."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = [e for e in archive.infolist() if not e.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        problems.append(f"the zip cannot be read ({err})")
        return {}
    if len(entries) > MAX_FILES or sum(e.file_size for e in entries) > MAX_PACKAGE_BYTES:
        problems.append(f"the zip holds more than {MAX_FILES} files or "
                        f"{MAX_PACKAGE_BYTES // 1_000_000} MB")  # fmt: skip
        return {}
    names = [e.filename.replace("\\", "/").lstrip("/") for e in entries]
    tops = {n.split("/", 1)[0] for n in names}
    strip = len(tops) == 1 and all("/" in n for n in names)
    out = {}
    for entry, name in zip(entries, names, strict=True):
        if strip:
            name = name.split("/", 1)[1]
        if (
            ".." in name.split("/")
            or name.startswith("__MACOSX/")
            or name.split("/")[-1][:1] == "."
        ):
            continue
        try:
            out[name] = archive.read(entry)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as err:
            problems.append(f"{name}: cannot be read from the zip ({err})")
    return out


def _text(name: str, data: bytes, problems: list[str]) -> str | None:
    try:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 with its mark (Windows tools)
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        problems.append(f"{name}: is not UTF-8 text")
        return None


_DECLARED = re.compile(r"""^(\s*<\?xml[^>]*?encoding=)(["'])[^"']*\2""")


def _xml_text(name: str, data: bytes, problems: list[str]) -> str | None:
    """An XML file as text, its declaration saying UTF-8 (the text is kept as UTF-8)."""
    text = _text(name, data, problems)
    return _DECLARED.sub(r"\1\2UTF-8\2", text, count=1) if text is not None else None


def _root(text: str):
    try:
        return etree.fromstring(text.encode(), etree.XMLParser(resolve_entities=False))
    except (etree.XMLSyntaxError, ValueError):
        return None


def _processes(bpmn: dict[str, str]) -> tuple[dict[str, tuple[str, object]], set[str]]:
    """Each executable process id -> (file, element); and the ids call activities call.
    When no process is executable but the package has exactly one, that one (a modeler
    that marks every pool not executable, as Signavio does)."""
    found, called, every = {}, set(), {}
    for name, text in bpmn.items():
        root = _root(text)
        if root is None:
            continue
        for process in root.iter(f"{{{BPMN_NS}}}process"):
            if not process.get("id"):
                continue
            every.setdefault(process.get("id"), (name, process))
            if process.get("isExecutable", "true") == "true":
                found.setdefault(process.get("id"), (name, process))
        for call in root.iter(f"{{{BPMN_NS}}}callActivity"):
            if call.get("calledElement"):
                called.add(call.get("calledElement"))
    if not found and len(every) == 1:
        found = every
    return found, called


GENERIC_ID = re.compile(r"^(Process|process|Process_Id|sid)[-_]?[0-9a-zA-Z]{0,12}$")


def _naming(process_id: str | None, bpmn_name: str) -> str:
    """What an upload's key comes from: its process id, unless that is a modeler's default
    (bpmn.io and Camunda Modeler call every new process ``Process_1`` or ``Process_0xyz``),
    then its file's name."""
    if process_id and not GENERIC_ID.match(process_id):
        return process_id
    stem = bpmn_name.rsplit("/", 1)[-1].split(".", 1)[0]
    return stem or process_id or "process"


def _key_from(process_id: str) -> str:
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", process_id)  # ParkingApplication
    key = re.sub(r"[^a-z0-9_]+", "_", snake.lower()).strip("_")[:63]
    return key if key[:1].isalpha() else f"p_{key}"[:63]


def _start_form(process, forms: dict, form_keys: dict) -> str | None:
    """The form the process's start event names (a spiff property or a Camunda form key)."""
    for start in process.findall(f"{{{BPMN_NS}}}startEvent"):
        for prop in start.iter(f"{{{SPIFF_NS}}}property"):
            if prop.get("name") == "formJsonSchemaFilename":
                return prop.get("value")
        key = next((start.get(f"{{{ns}}}formKey") for ns in CAMUNDA_NAMESPACES
                    if start.get(f"{{{ns}}}formKey")), None)  # fmt: skip
        if key:
            bare = key.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
            for name in (
                form_keys.get(key),
                bare,
                f"{bare}.json",
                f"{bare.rsplit('.', 1)[0]}.json",
            ):
                if name and name in forms:
                    return name
    return None


def _is_rehearsal(value) -> bool:
    """A rehearsal script, told by its content: an upload's file names reach the server
    without their folder (multipart keeps only the last part), so ``rehearsals/x.json``
    arrives as ``x.json``. A form is a JSON Schema and has no ``steps``."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("steps"), list)
        and ("properties" not in value)
    )


def _strs(value) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def load_files(
    files: dict[str, bytes], mapping: dict | None = None, default_key: str | None = None,
    all_forms: bool = True,
) -> ProcessSource:  # fmt: skip
    """A package from its files by name: ``process.toml`` (optional), ``*.bpmn``, ``*.dmn``,
    ``forms/*.json`` (or ``*.json`` at the top), ``rehearsals/*.json``, or one ``.zip``
    holding them. ``mapping`` (the upload's) wins over the manifest, key by key.
    ``all_forms`` keeps every form file; else only the ones the package names."""
    problems: list[str] = []
    files = dict(files)
    for name in [n for n in files if n.lower().endswith(".zip")]:
        files.update(unzip(files.pop(name), problems))
    if len(files) > MAX_FILES or sum(len(v) for v in files.values()) > MAX_PACKAGE_BYTES:
        problems.append(f"a package holds at most {MAX_FILES} files and "
                        f"{MAX_PACKAGE_BYTES // 1_000_000} MB")  # fmt: skip
        files = {}
    manifest: dict = {}
    if "process.toml" in files:
        text = _text("process.toml", files.pop("process.toml"), problems)
        try:
            manifest = tomllib.loads(text or "")
        except tomllib.TOMLDecodeError as err:
            problems.append(f"process.toml: {err}")
    manifest.update({k: v for k, v in (mapping or {}).items() if v is not None})
    bpmn, diagrams, forms, rehearsals = {}, {}, {}, {}
    for name, data in sorted(files.items()):
        base, lower = name.rsplit("/", 1)[-1], name.lower()
        if len(data) > MAX_FILE_BYTES:
            problems.append(f"{name}: larger than {MAX_FILE_BYTES // 1_000_000} MB")
        elif lower.endswith(".bpmn") or lower.endswith(".bpmn20.xml"):
            text = _xml_text(name, data, problems)
            if text is not None:
                bpmn[base] = text
        elif lower.endswith(".dmn"):
            text = _xml_text(name, data, problems)
            if text is not None:
                diagrams[base] = text
        elif lower.endswith(".json"):
            text = _text(name, data, problems)
            try:
                value = json.loads(text) if text is not None else None
            except json.JSONDecodeError as err:
                problems.append(f"{name}: cannot be read as JSON ({err})")
                value = None
            folder = name.rsplit("/", 1)[0] if "/" in name else ""
            (rehearsals if folder == REHEARSALS_FOLDER or (not folder and _is_rehearsal(value))
             else forms)[base] = value  # fmt: skip
        elif base not in ("README.md", "README", "LICENSE"):
            problems.append(f"{name}: a package holds .bpmn, .dmn and .json files only")
    found, called = _processes(bpmn)
    process_id = manifest.get("process_id")
    if process_id is None:
        tops = [pid for pid in found if pid not in called] or list(found)
        if len(tops) == 1:
            process_id = tops[0]
        elif tops:
            problems.append(f"the package has several executable processes ({', '.join(tops)}): "
                            "name the one to start as process_id in the mapping")  # fmt: skip
        elif not bpmn:
            problems.append("the package has no .bpmn file")
        elif all(_root(text) is not None for text in bpmn.values()):
            every = sorted(
                {
                    p.get("id")
                    for t in bpmn.values()
                    for p in _root(t).iter(f"{{{BPMN_NS}}}process")
                    if p.get("id")
                }
            )
            problems.append(
                "no process of the package is marked executable: name the one to "
                f"run as process_id in the mapping ({', '.join(every) or 'none'})"
            )
    process_id = str(process_id or manifest.get("key") or default_key or "")
    bpmn_name = manifest.get("bpmn") or (found[process_id][0] if process_id in found else None)
    if bpmn_name is None:
        bpmn_name = next(iter(bpmn), f"{default_key or 'process'}.bpmn")
    main = bpmn.pop(bpmn_name, None)
    if main is None and (bpmn or not problems):
        problems.append(f"{bpmn_name}: the package has no such file")
    process = found.get(process_id, (None, None))[1]
    form_keys = _strs(manifest.get("forms") or manifest.get("form_keys") or {})
    roles = _strs(manifest.get("roles") or manifest.get("lanes") or {})
    key = str(manifest.get("key") or default_key or _key_from(_naming(process_id, bpmn_name)))
    names = _strs(manifest.get("name") or {})
    if isinstance(manifest.get("name"), str):
        names = {"zh-hans": manifest["name"], "en": manifest["name"]}
    if not names and process is not None and process.get("name"):
        names = {"zh-hans": process.get("name"), "en": process.get("name")}
    start_roles = manifest.get("start_roles")
    if start_roles is None and mapping is not None:  # an upload: whoever the mapping names
        start_roles = sorted({*roles.values(), *filter(None, [manifest.get("default_role")])})
    start_form = manifest.get("start_form")
    if start_form is None and process is not None:
        start_form = _start_form(process, forms, form_keys)
    if not all_forms:
        wanted = referenced_forms(main or "") | {start_form} | set(form_keys.values())
        for text in bpmn.values():
            wanted |= referenced_forms(text)
        forms = {n: v for n, v in forms.items() if n in wanted}
    return ProcessSource(
        key=key,
        process_id=process_id or key,
        names=names,
        lanes=roles,
        start_form=start_form,
        start_roles=[str(r) for r in start_roles or []],
        business_key=str(manifest.get("business_key", "unit")),
        bpmn_name=bpmn_name,
        bpmn=main or "",
        forms=forms,
        glossary=_strs(manifest.get("en") or manifest.get("glossary") or {}),
        files={**bpmn, **diagrams},
        default_role=manifest.get("default_role") or None,
        form_keys=form_keys,
        operations=_strs(manifest.get("operations") or {}),
        rehearsals=rehearsals,
        instructions_en=_strs(manifest.get("instructions_en") or {}),
        load_problems=tuple(problems),
    )


def package_files(source: ProcessSource) -> dict[str, bytes]:
    """The package as files, as :func:`load_files` reads them back (the download)."""
    manifest = {
        "key": source.key, "process_id": source.process_id, "bpmn": source.bpmn_name,
        "start_form": source.start_form, "start_roles": source.start_roles,
        "business_key": source.business_key, "default_role": source.default_role,
        "name": source.names, "lanes": source.lanes, "forms": source.form_keys,
        "operations": source.operations, "en": source.glossary,
        "instructions_en": source.instructions_en,
    }  # fmt: skip
    files = {"process.toml": _toml(manifest).encode()}
    files[source.bpmn_name] = source.bpmn.encode()
    for name, text in source.files.items():
        files[name] = text.encode()
    for name, value in source.forms.items():
        files[f"{FORMS_FOLDER}/{name}"] = json.dumps(value, ensure_ascii=False, indent=2).encode()
    for name, value in source.rehearsals.items():
        files[f"{REHEARSALS_FOLDER}/{name}"] = json.dumps(value, ensure_ascii=False,
                                                          indent=2).encode()  # fmt: skip
    return files


def package_zip(source: ProcessSource) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in package_files(source).items():
            archive.writestr(f"{source.key}/{name}", data)
    return buffer.getvalue()


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string is JSON's


def _toml(manifest: dict) -> str:
    """The manifest as TOML (plain keys and one level of tables: what it holds)."""
    lines, tables = [], []
    for key, value in manifest.items():
        if value is None or value == {}:
            continue
        if isinstance(value, dict):
            tables.append((key, value))
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for key, table in tables:
        lines += ["", f"[{key}]"]
        lines += [f"{json.dumps(str(k), ensure_ascii=False)} = {_toml_value(v)}"
                  for k, v in table.items()]  # fmt: skip
    return "\n".join(lines) + "\n"
