"""The report folder written safely: staged beside its place, swapped in whole, never over inputs.

A report is written to a hidden staging folder next to ``--out`` and moved into place only when
complete, in one rename (an exchange where the system has it), so a kill at any moment leaves
the old report or the new one; stages of killed runs are removed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from circles.errors import OutputError
from circles.inputs.read import split_layer


def check_out_folder(out: Path, inputs: list[Path | str | None]) -> None:
    """Refuse an output folder that is, or holds, the folder of an input file.

    A report folder is replaced as a whole (``--overwrite``), so it must never hold the data
    it was computed from.

    Raises
    ------
    OutputError
        When ``out`` is an input's folder or one of its parents.
    """
    target = Path(out).resolve()
    for given in inputs:
        if given is None:
            continue
        path = split_layer(Path(given))[0]
        if not path.exists():
            continue
        folder = (path if path.is_dir() else path.parent).resolve()
        if folder == target or folder.is_relative_to(target):
            raise OutputError(
                f"--out {out} holds the input {given}; a report folder is replaced as a whole, "
                "so give a folder of its own (e.g. --out circles-report)"
            )


#: Files a file browser leaves in any folder; they do not make a report folder someone else's
_SYSTEM_FILES = {".DS_Store", "Thumbs.db", "desktop.ini"}


def _stage_prefix(out: Path) -> str:
    return f".{out.name}."


def scratch_folder(out: Path) -> Path | None:
    """A hidden folder beside ``out`` for files made before the report is written, or None.

    None when ``out``'s parent folder does not exist yet or cannot be written.
    Named as staging folders are, so that one left by a killed run is removed as they are.
    The caller removes it.
    """
    try:
        return _new_stage(out)
    except OSError:
        return None


def _new_stage(out: Path) -> Path:
    """A new hidden folder beside ``out``, named with this process's id.

    Stale ones, of processes that are gone, are removed by :func:`staged_output`.
    """
    parent = out.parent if out.parent != Path("") else Path(".")
    prefix = f"{_stage_prefix(out)}{os.getpid()}."
    return Path(tempfile.mkdtemp(prefix=prefix, suffix=".tmp", dir=parent))


def _remove_stale_stages(parent: Path, out: Path) -> None:
    """Remove staging folders of ``out`` left by runs that were killed (their process is gone)."""
    prefix = _stage_prefix(out)
    for stale in parent.glob(f"{glob_escape(prefix)}*.tmp"):
        pid_text = stale.name[len(prefix) :].split(".", 1)[0]
        if not pid_text.isdigit():  # named by an older circles: remove once an hour old
            with contextlib.suppress(OSError):
                if time.time() - stale.stat().st_mtime > 3600:
                    shutil.rmtree(stale, ignore_errors=True)
            continue
        if int(pid_text) == os.getpid():
            continue
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            shutil.rmtree(stale, ignore_errors=True)
        except OSError:  # alive, under another user
            continue


def glob_escape(text: str) -> str:
    """``text`` with glob's special characters taken literally."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic rename (Linux ``renameat2``); False where unsupported."""
    import ctypes
    import errno
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    path_arg = ctypes.c_char_p
    renameat2.argtypes = [ctypes.c_int, path_arg, ctypes.c_int, path_arg, ctypes.c_uint]
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _swap_in(stage: Path, out: Path) -> None:
    """Put the folder ``stage`` at ``out``, replacing the folder there as a whole.

    Where the system allows it the two are exchanged in one rename, so that ``out`` always holds
    either the old report or the new one; elsewhere the old folder is moved aside first.
    The old report ends up at ``stage``, removed by the caller.
    """
    if not out.exists():
        os.replace(stage, out)
        return
    if _exchange(stage, out):
        return
    aside = stage.with_name(stage.name.removesuffix(".tmp") + ".old.tmp")
    os.replace(out, aside)
    os.replace(stage, out)
    os.replace(aside, stage)


@contextmanager
def staged_output(
    out: Path,
    names: list[str],
    *,
    overwrite: bool,
    whole: bool = False,
    known: set[str] | None = None,
) -> Iterator[Path]:
    """Give a staging folder; on success move the named files into ``out``, else leave nothing.

    Refuses to start when any of ``names`` already exists in ``out`` and ``overwrite`` is false,
    so a run never clobbers an earlier report by accident and a failure never leaves a half report.

    With ``whole``, ``out`` is a report folder replaced as a whole: the new folder takes the old
    one's place in one rename (no stale ``maps/`` or ``planned/`` of an earlier run is left),
    and a folder holding anything but ``known`` names (the files of any report) is refused.
    Staging folders left by killed runs are removed.
    """
    locks = [
        lock for n in names for lock in (out / f"~${n}", out / f".~lock.{n}#") if lock.exists()
    ]
    if locks:
        name = locks[0].name.removeprefix("~$").removeprefix(".~lock.").removesuffix("#")
        raise OutputError(
            f"{out / name} is open in another program (lock file {locks[0].name}); close it and "
            "run again, or choose another --out"
        )
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file, not a folder; choose another --out")
    known = set(names) | (known or set()) | _SYSTEM_FILES
    present = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
    existing = [n for n in names if n in present]
    if whole:  # files of an earlier report with other parts (maps/, planned/)
        existing += [n for n in present if n in known and n not in names]
    if existing and not overwrite:
        raise OutputError(
            f"output folder {out} already holds {', '.join(existing)}; pass --overwrite to replace "
            "them or choose another --out"
        )
    foreign = [n for n in present if n not in known]
    if whole and foreign:
        listed = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise OutputError(
            f"output folder {out} holds files that are not part of a circles report ({listed}); "
            "the report folder is replaced as a whole: choose a new or empty --out"
        )
    parent = out.parent if out.parent != Path("") else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_stages(parent, out)
        stage = _new_stage(out)
    except OSError as exc:
        raise OutputError(
            f"cannot write to {parent} ({exc.strerror}); choose another --out"
        ) from exc
    try:
        yield stage
        missing = [n for n in names if not (stage / n).exists()]
        if missing:
            raise OutputError(f"internal: report files not written: {', '.join(missing)}")
        if whole:
            _swap_in(stage, out)
            return
        if not out.exists():
            os.replace(stage, out)
            return
        for name in names:
            if (out / name).is_dir():  # a folder of the report (maps/, planned/): replace it
                shutil.rmtree(out / name)
            os.replace(stage / name, out / name)
    except PermissionError as exc:
        raise OutputError(
            f"cannot replace {exc.filename or out}: it is open in another program or read-only; "
            "close it and run again, or choose another --out"
        ) from exc
    except OSError as exc:
        raise OutputError(
            f"cannot write the report to {out} ({exc}); choose another --out"
        ) from exc
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
